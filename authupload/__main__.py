"""``python -m authupload``: the operator's command line (see cli.py; ``--help`` lists it all)."""

import sys

from .cli import main

sys.exit(main())
