"""Sub-commands of `dlrs`, one module each (see `dlrs_desktop/cli.py` for the contract)."""
