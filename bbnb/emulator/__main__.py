"""``python -m bbnb.emulator``: the same as ``bbnb emulator``."""

import sys

from bbnb.emulator.cli import main

sys.exit(main())
