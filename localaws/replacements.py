"""Every attribute of moto, botocore, crhelper or the standard library that the local AWS replaces, in one place.

Two kinds, kept apart:

- A GAP fills in what AWS does and moto does not (each is explained in the module that implements it). When
  the installed library no longer has what the gap relies on, applying it fails with GapNoLongerFits, naming
  the gap and what changed: the local AWS would otherwise answer differently from AWS without saying so.
- A SPEEDUP cuts what the emulator itself costs, without changing any answer (localaws.speedups and
  localaws.step_functions_speedups say each one's cost). When it no longer fits, it steps aside with one
  warning line, and everything still runs, only slower. LOCALAWS_SPEEDUPS=off turns every speedup off.

The table is localaws.registry. A replacement names its target as "module:Attribute.path" and its new value
the same way; the modules are imported only when the replacement is applied, so a library that moved a
speedup's module costs a warning, not the collection of the whole suite. A new value marked `made` is a
factory, called with the attribute it replaces (to wrap it) and with the arguments given to applied().
"""

from __future__ import annotations

import importlib
import inspect
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from unittest import mock

SPEEDUPS_SWITCH = "LOCALAWS_SPEEDUPS"


class Kind(StrEnum):
    GAP = "gap"
    SPEEDUP = "speedup"


class GapNoLongerFits(RuntimeError):
    """A gap's target is gone or changed in the installed library: the local AWS cannot emulate it as it is."""


class SpeedupSteppedAside(UserWarning):
    """A speedup no longer fits the installed library and is not applied: the emulator is only slower."""


def parameters(*names: str) -> Callable[[Any], bool]:
    """A target that is a callable taking exactly these parameters."""

    def fits(original: Any) -> bool:
        function = original.fget if isinstance(original, property) else original
        if isinstance(function, staticmethod | classmethod):
            function = function.__func__
        return callable(function) and list(inspect.signature(function).parameters) == list(names)

    return fits


@dataclass(frozen=True)
class Replacement:
    name: str
    kind: Kind
    targets: tuple[str, ...]  # "module:Attribute.path", each replaced by the same new value
    new: str  # "module:name" of the value put in place (or of its factory, when made)
    relies_on: str  # what of the target the replacement relies on, in words
    fits: Callable[[Any], bool] | None = None  # holds that of the target as installed
    made: bool = False
    create: bool = False  # the target need not exist (an action moto's responses lack)
    everywhere: bool = True  # applied wherever the local AWS runs (service_gaps.filled), or only where named

    def owner(self, target: str) -> tuple[Any, str]:
        module_name, _, path = target.partition(":")
        owner: Any = importlib.import_module(module_name)
        *parents, attribute = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        return owner, attribute

    def misfit(self) -> str:
        """Why the replacement no longer fits the installed libraries ("" when it does)."""
        for target in self.targets:
            try:
                owner, attribute = self.owner(target)
            except (ImportError, AttributeError) as exc:
                return f"{target} is gone ({type(exc).__name__}: {exc})"
            if self.create:
                continue
            if attribute not in vars(owner) and not hasattr(owner, attribute):
                return f"{target} is gone"
            original = inspect.getattr_static(owner, attribute)
            if id(original) in _IN_PLACE:
                continue  # ours, applied (and checked) by an enclosing applied()
            if self.fits is not None and not self.fits(original):
                return f"{target} changed: the replacement relies on {self.relies_on}"
        try:
            resolve(self.new)
        except (ImportError, AttributeError) as exc:
            return f"its own implementation {self.new} cannot be loaded ({type(exc).__name__}: {exc})"
        return ""


def resolve(path: str) -> Any:
    module_name, _, name = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in name.split("."):
        found = getattr(found, part)
    return found


# The ids of the values applied() has put in place (each kept alive by its patch while it is there).
_IN_PLACE: set[int] = set()


def _registry() -> tuple[Replacement, ...]:
    from localaws.registry import REGISTRY

    return REGISTRY


BY_NAME = {replacement.name: replacement for replacement in _registry()}
GAPS = tuple(r.name for r in BY_NAME.values() if r.kind is Kind.GAP)
SPEEDUPS = tuple(r.name for r in BY_NAME.values() if r.kind is Kind.SPEEDUP)
# The speedups the local AWS runs with wherever it runs (the others only where their module names them).
EVERYWHERE = tuple(name for name in SPEEDUPS if BY_NAME[name].everywhere)


def speedups_on() -> bool:
    return os.environ.get(SPEEDUPS_SWITCH, "on").lower() not in ("off", "0", "false", "no")


@contextmanager
def applied(*names: str, **arguments: Any) -> Iterator[None]:
    """The named replacements, for as long as the context lasts: a gap that no longer fits raises, a speedup
    that no longer fits (or every speedup, with LOCALAWS_SPEEDUPS=off) is left out."""
    with ExitStack() as stack:
        for name in names:
            replacement = BY_NAME[name]
            if replacement.kind is Kind.SPEEDUP and not speedups_on():
                continue
            why = replacement.misfit()
            if why and replacement.kind is Kind.GAP:
                raise GapNoLongerFits(f"gap {name}: {why}. Adapt its module in localaws/ to the installed library.")
            if why:
                _step_aside(name, why)
                continue
            new = resolve(replacement.new)
            for target in replacement.targets:
                owner, attribute = replacement.owner(target)
                value = new(getattr(owner, attribute, None), **arguments) if replacement.made else new
                stack.enter_context(mock.patch.object(owner, attribute, value, create=replacement.create))
                _IN_PLACE.add(id(inspect.getattr_static(owner, attribute)))
        yield


_STEPPED_ASIDE: set[str] = set()


def _step_aside(name: str, why: str) -> None:
    """One warning line per speedup and process: which, why, and that the emulator is only slower without it."""
    if name not in _STEPPED_ASIDE:
        _STEPPED_ASIDE.add(name)
        warnings.warn(f"localaws: speedup {name} stepped aside ({why}); only slower", SpeedupSteppedAside, 3)
