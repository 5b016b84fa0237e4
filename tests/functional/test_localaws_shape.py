"""localaws stays a package of small modules, each one a named gap or helper, and mypy reads every
part of moto it hooks."""

from __future__ import annotations

import fnmatch
import re
import tomllib

from localaws import ROOT


def test_no_localaws_module_is_over_250_lines() -> None:
    """A module that outgrows this holds two concerns: split it by what each part does."""
    # The registry of replacements is a declaration table: one concern, read top to bottom.
    tables = {"registry.py"}
    long = {
        path.name: n
        for path in (ROOT / "localaws").glob("*.py")
        if path.name not in tables and (n := len(path.read_text().splitlines())) > 250
    }
    assert long == {}


def test_mypy_reads_every_moto_package_our_code_imports_and_skips_only_what_it_never_imports() -> None:
    """pyproject.toml has mypy skip moto's other services and the libraries only our dependencies import
    (their names are Any to it); a new import of one of them must be checked, so it must be listed."""
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["overrides"]
    skipped = next(o["module"] for o in overrides if o.get("follow_imports") == "skip")
    read = next(o["module"] for o in overrides if o.get("follow_imports") == "normal")
    checked = ["layers/onboarding/expel_onboarding", "functions", "localaws", "scripts"]
    sources = [path for folder in checked for path in (ROOT / folder).rglob("*.py")]
    imported = {
        name
        for path in sources
        for name in re.findall(r"^\s*(?:from|import) ([\w.]+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }

    def listed(name: str, patterns: list[str]) -> bool:
        # mypy's "a.*" matches a and every module under it.
        return any(name == p or (p.endswith(".*") and fnmatch.fnmatchcase(name, p[:-2] + "*")) for p in patterns)

    unread = sorted(n for n in imported if n.startswith("moto.") and not listed(n, read))
    assert unread == [], f"add these moto packages to the follow_imports = normal list: {unread}"
    wrongly_skipped = sorted(n for n in imported if not n.startswith("moto") and listed(n, skipped))
    assert wrongly_skipped == [], f"our code imports these, so mypy must read them: {wrongly_skipped}"
