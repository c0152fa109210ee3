"""`dlrs-desktop [PATH] [--demo]`: start the workstation.

Start-up order is chosen for speed: parse arguments (no Qt), show the window, then — from the event
loop — load the model in the background and open the image. Nothing here imports torch; the CPU
predictor uses ONNX Runtime, imported in the loader thread.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

T0 = time.perf_counter()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dlrs-desktop",
        description="DLRS Desktop workstation (research use; each model's card says what it was trained on).",
    )
    p.add_argument("path", nargs="?", help="an image file, or a folder to open as a worklist")
    p.add_argument(
        "--demo", action="store_true", help="the bundled sample with its own contour (no earlier edits)"
    )
    p.add_argument(
        "--model",
        help="a model bundle folder or zip (default: the one last chosen in the Model menu, else the "
        "bundled demonstration model)",
    )
    p.add_argument("--device", choices=["auto", "cpu", "gpu"], help="override the device preference")
    p.add_argument("--no-model", action="store_true", help="do not load a model (contouring only)")
    p.add_argument(
        "--language",
        choices=["en", "zh_CN"],
        help="interface language (default: the one chosen in Preferences, else the system's)",
    )
    p.add_argument(
        "--self-test",
        action="store_true",
        help="without a window: verify the bundled model, predict on the bundled sample, print, exit",
    )
    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from dlrs_desktop import __version__

    p.add_argument("--version", action="version", version=f"dlrs-desktop {__version__}")
    return p


def _install_excepthook() -> None:
    """An unexpected error becomes one readable dialog line (traceback to stderr for the log), no crash."""

    def hook(exc_type, exc, tb) -> None:
        traceback.print_exception(exc_type, exc, tb)
        # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
        from PySide6.QtCore import QCoreApplication

        # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
        from dlrs_desktop.errors import DlrsError

        # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
        from dlrs_desktop.ui import dialogs, i18n

        if isinstance(exc, DlrsError):
            dialogs.error(None, i18n.core_text(exc))
        else:
            text = QCoreApplication.translate(
                "app", "Something went wrong ({error}). Your work is autosaved."
            ).format(error=f"{exc_type.__name__}: {exc}")
            dialogs.error(None, text)

    sys.excepthook = hook


def start(args: argparse.Namespace):
    """Create the window and schedule opening/model loading; returns the window (tests and benchmarks)."""
    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from PySide6.QtCore import QCoreApplication, QTimer

    translate = QCoreApplication.translate

    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from dlrs_desktop.ui import dialogs

    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from dlrs_desktop.ui.mainwindow import MainWindow

    win = MainWindow()
    if args.device:
        win.prefs.device = args.device
    win.show_sized()

    def after_show() -> None:
        if not args.no_model:
            win.model_menu.start(args.model)  # --model, else the Model menu's remembered choice
        else:
            win.model_label.setText(translate("app", "Model: not loaded (--no-model)"))
            win.result_panel.model_state.setText(
                translate("app", "No model loaded (started with --no-model).")
            )
        crashed = win.session.crashed_session()
        win.session.begin(image=None, folder=None)
        if args.demo:
            win.open_demo(background=True)
        elif args.path:
            if not Path(args.path).exists():
                dialogs.error(win, translate("app", "'{path}' does not exist.").format(path=args.path))
            else:
                win.open_path(args.path, background=True)
        elif crashed is not None:
            target = crashed.folder or crashed.image
            if (
                target
                and Path(target).exists()
                and dialogs.ask_yes_no(
                    win,
                    translate(
                        "app",
                        "DLRS Desktop did not close normally last time. Reopen '{name}' with its autosaved "
                        "contours?",
                    ).format(name=Path(target).name),
                    translate("app", "Recover work"),
                )
            ):
                win.open_path(target)
                if crashed.folder and crashed.image and Path(crashed.image).exists():
                    win.open_path(crashed.image)

    QTimer.singleShot(0, after_show)
    return win


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:  # for IT after installing: no display, no Qt
        # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
        from dlrs_desktop.selftest import run_self_test

        return run_self_test()
    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["dlrs-desktop"])
    app.setApplicationName("DLRS Desktop")
    app.setOrganizationName("dlrs-desktop")
    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from dlrs_desktop.ui import i18n

    # lazy: the window's modules load in main(), so `import dlrs_desktop.ui.app` and --help stay instant
    from dlrs_desktop.ui.settings import Preferences

    i18n.install(app, i18n.resolve_language(args.language, Preferences().language))
    _install_excepthook()
    win = start(args)
    code = app.exec()
    del win
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
