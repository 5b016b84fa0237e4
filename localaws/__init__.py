"""A local AWS for the demo, the benchmark and the tests: moto, with each of its gaps that the onboarding
meets filled in a module named for the gap.

The direction of imports: the product (layers/, functions/) knows nothing of this package; this package
imports the product and never tests/ or scripts/; tests/ and scripts/ import it (ruff's TID251 holds each
folder to that, see localaws/ruff.toml). It runs only inside the repository (it builds template.yaml with
the repository's sam), so the wheel does not ship it (pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

# The repository this package runs in: template.yaml, functions/, statemachine/ and the tool venvs.
ROOT = Path(__file__).resolve().parents[1]
