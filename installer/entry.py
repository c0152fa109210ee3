"""Entry script of the frozen application (PyInstaller runs this as `__main__`)."""

import sys

from dlrs_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
