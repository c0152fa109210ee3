"""The worklist watches its folder: images that arrive (from `dlrs dicom listen`, Receive from scanner,
a retrieve, or a copy) appear without re-opening the folder. Qt's QFileSystemWatcher, debounced, and a
re-list only when the set of images changed (the current image stays selected). The folder's mtime is
also checked every second, because inotify watches run out on busy machines and then nothing is told."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from dlrs_desktop.ui.worklist import list_images

if TYPE_CHECKING:
    from dlrs_desktop.ui.worklist import Worklist

DEBOUNCE_MS = 400
FOLLOW_MS = 1000  # how often the watcher checks which folder the worklist shows


class WorklistWatcher(QObject):
    def __init__(self, worklist: Worklist, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worklist = worklist
        self.watcher = QFileSystemWatcher(self)
        self.watched: Path | None = None
        self.mtime_ns: int | None = None
        self.watcher.directoryChanged.connect(lambda _path: self.debounce.start())
        self.debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.debounce.timeout.connect(self.refresh)
        self.follow = QTimer(self, interval=FOLLOW_MS)
        self.follow.timeout.connect(self._follow_folder)
        self.follow.start()

    def _follow_folder(self) -> None:
        folder = self.worklist.folder
        if folder != self.watched:
            if self.watcher.directories():
                self.watcher.removePaths(self.watcher.directories())
            self.watched, self.mtime_ns = folder, None
            if folder is not None and folder.is_dir():
                self.watcher.addPath(str(folder))
                self.refresh()  # what arrived between the listing and now (no event was watching)
        if folder is None:
            return
        try:
            mtime = folder.stat().st_mtime_ns
        except OSError:
            return
        if self.mtime_ns is not None and mtime != self.mtime_ns and not self.debounce.isActive():
            self.debounce.start()
        self.mtime_ns = mtime

    def refresh(self) -> bool:
        """Re-list the worklist if its images changed; True when it did."""
        folder = self.worklist.folder
        if folder is None or not folder.is_dir():
            return False
        try:
            images = list_images(folder)
        except OSError:
            return False
        if images == self.worklist.paths:
            return False
        current = self.worklist.current
        self.worklist.set_folder(folder)
        self.worklist.set_current(current)
        return True
