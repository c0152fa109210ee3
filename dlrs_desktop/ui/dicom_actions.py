"""DICOM in the GUI: Export to DICOM, Send results to PACS, Receive from scanner, PACS node preferences.

The work itself is `dlrs_desktop.exchange` (Qt-free, shared with `dlrs dicom`); network calls run in
`NetRunner`'s own thread pool with the node's timeout, so a dead PACS gives one message, never a
frozen window. Nothing touches the network unless the user configured a node (Preferences).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QFileDialog

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.exports import STILL_COMPUTING
from dlrs_desktop.ui.folder_watch import WorklistWatcher
from dlrs_desktop.ui.pacs_prefs import (  # noqa: F401 - PacsFields, configured_node: imported from here
    PacsFields,
    configured_node,
    pacs_setting,
    receive_policy,
    set_pacs_setting,
)

translate = QCoreApplication.translate

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from dlrs_desktop.store import AuditLog
    from dlrs_desktop.ui.document import Document
    from dlrs_desktop.ui.exports import Exporter
    from dlrs_desktop.ui.settings import Preferences
    from dlrs_desktop.ui.worklist import Worklist


class DicomHost(Protocol):
    """What the DICOM actions use of the window (explicit, instead of the whole DicomHost)."""

    prefs: Preferences
    doc: Document
    worklist: Worklist
    audit: AuditLog
    actions_by_name: dict[str, QAction]
    dicom: DicomController
    exporter: Exporter

    def show_status(self, text: str) -> None: ...
    def open_path(self, path: str | Path) -> bool: ...
    def load_contour_file(self, path: Path) -> None: ...
    def write_report(self, path: str | Path) -> Path: ...


class _Bridge(QObject):
    done = Signal(object, object)
    failed = Signal(object, str)


class _NetJob(QRunnable):
    def __init__(self, fn: Callable[[], Any], token: object, bridge: _Bridge) -> None:
        super().__init__()
        self.fn, self.token, self.bridge = fn, token, bridge

    def run(self) -> None:
        try:
            result = self.fn()
        except DlrsError as exc:
            self.bridge.failed.emit(self.token, i18n.core_text(exc))
        except Exception as exc:  # a network library failure is a message, not a crash
            self.bridge.failed.emit(self.token, f"{type(exc).__name__}: {exc}")
        else:
            self.bridge.done.emit(self.token, result)


class NetRunner(QObject):
    """Runs network calls off the GUI thread; `done(token, result)` / `failed(token, message)`."""

    done = Signal(object, object)
    failed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.bridge = _Bridge(self)
        self.bridge.done.connect(self.done)
        self.bridge.failed.connect(self.failed)

    def submit(self, token: object, fn: Callable[[], Any]) -> None:
        self.pool.start(_NetJob(fn, token, self.bridge))

    def wait(self, ms: int = 30000) -> bool:
        return self.pool.waitForDone(ms)


# ----------------------------------------------------------------------------------------- export / send
def ask_patient(win: DicomHost) -> tuple[str, str] | None:
    """A PNG/JPEG has no patient: the user types ID and name (empty = anonymous placeholders)."""
    title = translate("dicom_actions", "DICOM export")
    ask = translate("dicom_actions", "Patient ID for the Secondary Capture (empty: ANONYMOUS):")
    pid = dialogs.ask_text(win, ask, "", title)
    if pid is None:
        return None
    ask = translate("dicom_actions", "Patient name, Family^Given (empty: Anonymous^Patient):")
    name = dialogs.ask_text(win, ask, "", title)
    return None if name is None else (pid.strip(), name.strip())


def current_prediction(win: DicomHost) -> Any:
    """The prediction made in this session for the contour on screen, else None.

    A result restored from a sidecar is not re-verified, so it never goes into the patient record.
    """
    doc = win.doc
    rois, _ = doc.rois()
    pred = doc.prediction if doc.result is not None and not doc.result_is_stale else None
    return pred if pred is not None and rois is not None and pred.contour_hash == rois.contour_hash else None


def _what(win: DicomHost) -> str:
    if current_prediction(win) is not None:
        return translate("dicom_actions", "SEG, SR with the probability, PDF")
    return translate(
        "dicom_actions",
        "SEG, SR with measurements only (no current prediction: press Predict to include it), PDF",
    )


def export_current(win: DicomHost, folder: str | Path) -> list[Path] | None:
    """Write SEG, SR (with the current, non-stale prediction) and the GUI's PDF for the image on screen.

    None when the user cancelled the patient questions of a non-DICOM image.
    """
    # lazy: exchange.source stays off the window's start-up (importtime of ui.mainwindow)
    # lazy: exchange.export stays off the window's start-up (importtime of ui.mainwindow)
    from dlrs_desktop.exchange.export import ExportRequest, export_case
    from dlrs_desktop.exchange.source import is_dicom_file

    doc = win.doc
    if doc.image is None or doc.contour is None:
        raise DlrsError(
            translate("dicom_actions", "Open an image and draw the tumour contour before exporting to DICOM.")
        )
    rois, problem = doc.rois(translate)
    if rois is None:
        raise DlrsError(
            problem or translate("dicom_actions", "The contour cannot be measured (no calibration?).")
        )
    if not win.exporter.settle():  # the SR and the PDF carry the complete result
        raise DlrsError(translate("exports", STILL_COMPUTING))
    prediction = current_prediction(win)
    patient = ("", "")
    if doc.path is None or not is_dicom_file(doc.path):
        asked = ask_patient(win)
        if asked is None:
            return None
        patient = asked
    with tempfile.TemporaryDirectory() as tmp:
        pdf = win.write_report(Path(tmp) / "report.pdf").read_bytes()  # identifiers off, as by default
    measurements = doc.contour.measurements(rois.calibration)
    request = ExportRequest(
        doc.image,
        rois,
        measurements,
        image_path=doc.path,
        prediction=prediction,
        pdf=pdf,
        patient_id=patient[0],
        patient_name=patient[1],
    )
    done = export_case(request, folder)
    return done.paths()


class DicomController(QObject):
    """The window's DICOM state: network runner, scanner listener, outcome of the last send."""

    def __init__(self, win: DicomHost) -> None:
        super().__init__(win)
        self.win = win
        self.runner = NetRunner(self)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.listener: Any = None
        self.last_send: list[Any] | None = None
        self.last_error: str | None = None
        self.sending_what = ""
        self.received = _Bridge(self)  # the listener's thread → the GUI thread
        self.received.done.connect(self._received)
        self.folder_watch = WorklistWatcher(win.worklist, self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # stop listening before the process ends

    # -- export / send
    def export_dialog(self, folder: str | None = None) -> list[Path]:
        win = self.win
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                win, self.tr("Export to DICOM"), win.prefs.export_folder
            )
            if not folder:
                return []
        try:
            files = export_current(win, folder)
        except DlrsError as exc:
            dialogs.error(win, i18n.core_text(exc), self.tr("Cannot export to DICOM"))
            return []
        except Exception as exc:  # never a traceback for the user's image
            dialogs.error(win, f"{type(exc).__name__}: {exc}", self.tr("Cannot export to DICOM"))
            return []
        if files is None:
            return []
        win.audit.append("dicom_export", status=f"{len(files)} files", **self._identity())
        wrote = self.tr("Wrote {count} DICOM files ({what}) to {folder}.")
        win.show_status(wrote.format(count=len(files), what=_what(win), folder=folder))
        return files

    def send_results(self) -> bool:
        """Export to a temporary folder, then C-STORE to the configured PACS in a worker thread."""
        # lazy: exchange.net stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.exchange.net import send

        win = self.win
        node = configured_node(win)
        if node is None:
            none = self.tr("No PACS is configured: set its AE title, host and port in Preferences.")
            dialogs.error(win, none, self.tr("Send"))
            return False
        tmp = Path(tempfile.mkdtemp(prefix="dlrs-send-"))
        try:
            files = export_current(win, tmp)
        except Exception as exc:  # DlrsError in plain words; anything else still one dialog
            shutil.rmtree(tmp, ignore_errors=True)
            text = i18n.core_text(exc) if isinstance(exc, DlrsError) else f"{type(exc).__name__}: {exc}"
            dialogs.error(win, text, self.tr("Cannot send results"))
            return False
        if files is None:
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        self.last_send, self.last_error = None, None
        self.sending_what = _what(win)
        win.show_status(
            self.tr("Sending {count} objects to {node}…").format(count=len(files), node=node.label())
        )

        def work() -> Any:
            try:
                return send(node, files)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)  # the PACS has them now, or the user re-sends

        self.runner.submit(("send", node.label(), self._identity()), work)
        return True

    def _identity(self) -> dict[str, Any]:
        """What the audit log may say about the exported case: hashes only, no names or UIDs."""
        doc = self.win.doc
        return {
            "image_sha256": doc.image.sha256 if doc.image is not None else None,
            "contour_hash": doc.contour.content_hash() if doc.contour is not None else None,
            "frame": doc.frame,
        }

    def _done(self, token: Any, result: Any) -> None:
        if token[0] == "send":
            self.last_send = list(result)
            bad = [o for o in result if not o.ok]
            stored = f"stored {len(result) - len(bad)}/{len(result)}"
            self.win.audit.append("dicom_send", status=stored, **token[2])
            if bad:
                lines = "\n".join(f"{o.path.name}: {o.message}" for o in bad)
                text = self.tr("{bad} of {total} objects were not stored on {node}:\n{lines}")
                text = text.format(bad=len(bad), total=len(result), node=token[1], lines=lines)
                dialogs.error(self.win, text, self.tr("Send results"))
            else:
                sent = self.tr("Sent {count} objects ({what}) to {node}.")
                self.win.show_status(sent.format(count=len(result), what=self.sending_what, node=token[1]))

    def _failed(self, token: Any, message: str) -> None:
        if token[0] == "send":  # the query/retrieve dialog shows its own failures
            self.last_error = message
            self.win.audit.append("dicom_send", status="failed", **token[2])
            dialogs.error(self.win, message, self.tr("Send results to PACS"))

    # -- receive from scanner
    def toggle_receive(self, on: bool) -> None:
        """A C-STORE SCP filing into the worklist folder (or the default image folder)."""
        # lazy: exchange.listener stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.exchange.listener import start_listener

        win = self.win
        if self.listener is not None:
            self.listener.shutdown()
            self.listener = None
        if not on:
            win.show_status(self.tr("Stopped receiving from the scanner."))
            return
        folder = win.worklist.folder or (Path(win.prefs.open_folder) if win.prefs.open_folder else None)
        if folder is None:
            first = self.tr("Open a folder as worklist first: received images are filed there.")
            dialogs.error(win, first, self.tr("Receive"))
            self._uncheck()
            return
        try:
            port = int(pacs_setting(win, "listen_port") or 11112)
            aet = pacs_setting(win, "calling_aet") or "DLRS"
            self.listener = start_listener(
                port,
                aet,
                folder,
                policy=receive_policy(win),
                on_file=lambda p: self.received.done.emit("recv", p),
                on_note=lambda text: self.received.done.emit("note", text),
            )
        except (DlrsError, ValueError) as exc:
            dialogs.error(win, i18n.core_text(exc), self.tr("Receive from scanner"))
            self._uncheck()
            return
        said = self.tr("Receiving from the scanner as {aet} on port {port} into {folder}.")
        win.show_status(said.format(aet=aet, port=port, folder=folder))

    def _received(self, token: Any, path: Any) -> None:
        if token == "note":  # a refused peer, an aborted dataset, a same-UID object kept beside
            self.win.show_status(self.tr("Receive: {0}").format(path))
            return
        self.folder_watch.refresh()
        self.win.show_status(self.tr("Received {name} from the scanner.").format(name=Path(path).name))

    def _uncheck(self) -> None:
        action = self.win.actions_by_name.get("dicom_receive")
        if action is not None:
            action.blockSignals(True)
            action.setChecked(False)
            action.blockSignals(False)

    def shutdown(self) -> None:
        if self.listener is not None:
            self.listener.shutdown()
            self.listener = None
        self.runner.wait(5000)
