"""CloudFormation and SAM templates read from YAML, short-form intrinsics (!Ref, !GetAtt, !Sub, ...)
included, as samtranslator reads them, but with libyaml.

samtranslator's yaml_parse uses PyYAML's pure-Python loader: template.yaml took about 0.3 s each time,
in every process and command that read it.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader (libyaml's, where PyYAML was built with it) that knows the short-form tags."""


_Loader.add_multi_constructor("!", intrinsics_multi_constructor)


def parse(text: str) -> dict[str, Any]:
    """A template's text (JSON is YAML too) as the dict CloudFormation reads."""
    parsed = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    if not isinstance(parsed, dict):
        raise ValueError(f"a template is a mapping of sections; this text is a {type(parsed).__name__}")
    return parsed


def read(path: Path) -> dict[str, Any]:
    """A template file, parsed once per process: the copy returned is the caller's to change."""
    return copy.deepcopy(_read(path))


@cache
def _read(path: Path) -> dict[str, Any]:
    return parse(path.read_text(encoding="utf-8"))
