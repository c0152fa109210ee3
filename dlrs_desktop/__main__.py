import sys

from dlrs_desktop.cli_entry import main

sys.exit(main())
