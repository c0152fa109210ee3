"""Entry script of the frozen application (PyInstaller runs this as `__main__`).

One executable serves both commands: started under the name `dlrs` (the .deb's /usr/bin/dlrs is a
link to it) it is the command line, otherwise the workstation (`dlrs-desktop`).
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    if Path(sys.argv[0]).stem == "dlrs":
        from dlrs_desktop.cli_entry import main as cli_main

        sys.exit(cli_main())
    from dlrs_desktop.ui.app import main

    sys.exit(main())
