"""python -m expel_onboarding_cli: the command-line interface (see cli.py)."""

import sys

from expel_onboarding_cli.cli import main

sys.exit(main())
