import sys

from dlrs_desktop.cli import main

sys.exit(main())
