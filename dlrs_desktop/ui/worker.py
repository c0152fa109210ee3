"""Model loading and prediction off the GUI thread.

The model is loaded in the background at start-up so the first Predict is quick; each prediction runs
in a QThreadPool worker and comes back tagged with the contour hash it was computed for, so the window
can refuse to show a late result for a contour that has since changed. A prediction comes back in two
stages: the probability as soon as it exists (`predicted`), then the same result with its contour
sensitivity (`completed`); `cancel` drops the second stage of a job whose contour is gone.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from dlrs_desktop import paths
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.model.reading import BundleReading
from dlrs_desktop.ui import i18n

translate = QCoreApplication.translate


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], done: Callable[[Any], None], fail: Callable[[str], None]):
        super().__init__()
        self.fn, self.done, self.fail = fn, done, fail
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn()
        except DlrsError as exc:
            self.fail(i18n.core_text(exc))
        except Exception as exc:  # a bug: a readable line for the user, the traceback for the log
            traceback.print_exc()
            self.fail(
                translate("worker", "Internal error while running the model: {error}").format(
                    error=f"{type(exc).__name__}: {exc}"
                )
            )
        else:
            self.done(result)


class ModelService(QObject):
    """Owns the Predictor. Signals are emitted from worker threads and delivered on the GUI thread."""

    loaded = Signal(object)  # ModelInfo
    load_failed = Signal(str)
    switch_failed = Signal(str)  # load(keep_current=True) failed: the model in use stays loaded
    unsigned = Signal(str, str, bool)  # path, why, keep_current: no trusted key signed it (ask the user)
    predicted = Signal(str, object)  # job contour hash, Prediction of the first stage (no sensitivity)
    predict_failed = Signal(str, str)  # job contour hash, message (no result may be shown)
    completed = Signal(str, object)  # job contour hash, the same Prediction with its contour sensitivity
    cancelled = Signal(str)  # job contour hash: its second stage was dropped (`cancel`)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # predictions queue one after another; the GUI thread stays free
        self.predictor: Any = None
        self.info = ModelInfo()
        self.error: str | None = None
        self.loading = False
        self.started_at = 0.0
        self._stops: dict[str, threading.Event] = {}  # job → set when its second stage must not run

    @property
    def ready(self) -> bool:
        return self.predictor is not None

    def load(
        self,
        bundle: str | Path | None = None,
        device: str = "auto",
        *,
        keep_current: bool = False,
        trusted_keys: tuple[str, ...] = (),
        allow_unsigned: bool = False,
        precision: str = "auto",
    ) -> None:
        """`keep_current`: the model in use serves until the new one is ready, and stays if it fails.

        A bundle no trusted key signed is refused (`unsigned` is emitted, the window asks the user)
        unless `allow_unsigned`; then its results say "unsigned model" (bundle_signature.py)."""
        # lazy: model stays off the window's start-up (importtime of ui.mainwindow)
        # lazy: bundle_signature stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.bundle_signature import TrustPolicy, UnsignedModelError
        from dlrs_desktop.model import Predictor

        path = Path(bundle) if bundle is not None else paths.bundled_model_dir()
        previous = self.predictor if keep_current else None
        self.predictor, self.error, self.loading = previous, None, True
        self.started_at = time.perf_counter()

        def work() -> Any:

            if not path.exists():
                raise DlrsError(
                    translate(
                        "worker",
                        "The model was not found at {path}. Reinstall the application or choose a model "
                        "in the Model menu.",
                    ).format(path=path)
                )
            try:
                trust = TrustPolicy.from_files(trusted_keys, allow_unsigned)
                return Predictor(path, device=device, trust=trust, precision=precision)
            except UnsignedModelError:
                refused.append(True)
                raise

        refused: list[bool] = []

        def failed(message: str) -> None:
            if refused:
                self.predictor, self.loading = previous, False
                self.unsigned.emit(str(path), message, keep_current)
            elif previous is None:
                self._on_load_failed(message)
            else:
                self.loading = False
                self.switch_failed.emit(message)

        self.pool.start(_Job(work, lambda p: self._on_loaded(p, path), failed))

    def _on_loaded(self, predictor: Any, path: Path | None = None) -> None:
        self.predictor, self.loading = predictor, False
        self.info = model_info(predictor, path, time.perf_counter() - self.started_at)
        self.loaded.emit(self.info)

    def _on_load_failed(self, message: str) -> None:
        self.predictor, self.loading, self.error = None, False, message
        self.load_failed.emit(message)

    def predict(self, image: Any, contour: Any, job_hash: str, *, cam: bool = True) -> None:
        """Both stages in one queued job: `predicted` (probability), then `completed` (with the contour
        sensitivity) unless `cancel(job_hash)` came first. A failure in either is `predict_failed`."""
        predictor = self.predictor
        if predictor is None:
            self.predict_failed.emit(
                job_hash,
                self.error or translate("worker", "The model is still loading; try again in a moment."),
            )
            return
        stop = self._stops[job_hash] = threading.Event()
        shown: list[bool] = []  # the first stage was emitted

        def work() -> Any:
            first = predictor.predict_fast(image, contour, cam=cam)
            self.predicted.emit(job_hash, first)
            shown.append(True)
            if stop.is_set():
                return None
            return predictor.add_sensitivity(first, image, contour)

        def forget() -> None:
            if self._stops.get(job_hash) is stop:
                del self._stops[job_hash]

        def done(pred: Any) -> None:
            forget()
            if pred is None or stop.is_set():
                self.cancelled.emit(job_hash)
            else:
                self.completed.emit(job_hash, pred)

        def failed(message: str) -> None:
            forget()
            if shown and stop.is_set():  # the second stage of a contour that is gone: nothing to say
                self.cancelled.emit(job_hash)
            else:
                self.predict_failed.emit(job_hash, message)

        self.pool.start(_Job(work, done, failed))

    def cancel(self, job_hash: str) -> None:
        """The second stage of `job_hash` is not wanted any more (its contour changed): it does not start,
        and one already running is dropped when it ends (`cancelled`, never `completed`)."""
        stop = self._stops.get(job_hash)
        if stop is not None:
            stop.set()

    def wait(self, ms: int = 30000) -> bool:
        return self.pool.waitForDone(ms)


@dataclass(frozen=True)
class ModelInfo:
    """The loaded model as the window shows it, from its bundle (never invented); empty before one loads.

    `reading` is what the GUI reads from the manifest (outcome, ring radii, region thresholds), typed
    once; `manifest` stays the bundle's own JSON for its model card (Help → About)."""

    name: str = ""
    version: str = ""
    sha256: str = ""
    notice: str = ""
    device: str = ""
    backend: str = ""
    warnings: tuple[str, ...] = ()
    manifest: dict[str, Any] = field(default_factory=dict)
    reading: BundleReading = field(default_factory=lambda: BundleReading.from_manifest(None))
    path: str = ""
    seconds: float = 0.0

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"


def model_info(predictor: Any, path: Path | None = None, seconds: float = 0.0) -> ModelInfo:
    """Name, version, notice, device and hash of the loaded model, from its bundle."""
    bundle = predictor.bundle
    return ModelInfo(
        name=bundle.id,
        version=bundle.version,
        manifest=bundle.manifest,
        reading=BundleReading.from_manifest(bundle.manifest),
        sha256=bundle.manifest_sha256,
        notice=bundle.research_notice,
        path=str(path) if path is not None else "",
        device=predictor.device,
        backend=predictor.backend,
        warnings=(predictor.device_note,) if predictor.device_note else (),
        seconds=seconds,
    )


class ImageLoader(QObject):
    """Decodes images off the GUI thread (a cine DICOM can take seconds); only the latest request counts."""

    loaded = Signal(int, object)  # request token, UltrasoundImage
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.token = 0

    def request(self, path: Path, frame: int | None) -> int:
        self.token += 1
        token = self.token

        def work() -> Any:

            try:
                return load_image(path, frame)
            except DlrsError:
                raise
            except Exception as exc:  # a file the user picked: a message, never a traceback
                text = translate("files", "Cannot open '{name}': {error}")
                raise DlrsError(text.format(name=path.name, error=f"{type(exc).__name__}: {exc}")) from exc

        self.pool.start(
            _Job(work, lambda image: self.loaded.emit(token, image), lambda m: self.failed.emit(token, m))
        )
        return token

    @property
    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0
