"""The speedups' own tests read moto's and botocore's internals that the speedups replace: only while the
registry (localaws.registry) says those still fit. A test module calls skip_unless_fitting() before it
imports them, so a library that moved one skips that module instead of breaking the suite's collection."""

from __future__ import annotations

import pytest

from localaws import replacements


def skip_unless_fitting(*names: str) -> None:
    misfits = {name: why for name in names if (why := replacements.BY_NAME[name].misfit())}
    if misfits:
        pytest.skip(f"speedups that no longer fit the installed libraries: {misfits}", allow_module_level=True)
