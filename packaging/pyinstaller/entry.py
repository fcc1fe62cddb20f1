"""The frozen bundle's entry point: the ``deskbridge`` command, as the installed one runs it."""

import sys

from deskbridge.cli import main

if __name__ == "__main__":
    sys.exit(main())
