"""`dlrs-desktop` entry point (placeholder window until the workstation issue lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv if argv is None else ["dlrs-desktop", *argv])
    label = QLabel("DLRS Desktop — research use, demonstration model")
    label.resize(640, 200)
    label.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
