import sys

from deskbridge.cli import main

sys.exit(main())
