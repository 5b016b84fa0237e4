"""python -m expel_onboarding: the command-line interface (see cli.py)."""

import sys

from expel_onboarding.cli import main

sys.exit(main())
