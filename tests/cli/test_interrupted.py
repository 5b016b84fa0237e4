"""Ctrl-C, wherever a person types: one message that says what goes on and what to do, exit 130, and no
traceback (the real signal, on a followed run, is in test_first_hour_mistakes.py)."""

from __future__ import annotations

import io
import sys

import pytest

import localaws.__main__ as localaws_command
from expel_onboarding_cli import cli, plan
from localaws import demo


def interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def _unraisable_hook_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    # cli.main quiets the interrupted process's clean-up for good; here the process goes on.
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)


def test_ctrl_c_during_a_plan_says_nothing_is_half_done(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(plan, "make", interrupt)
    before = sys.unraisablehook
    code = cli.main(["plan", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"], out=io.StringIO())
    assert code == cli.EXIT_INTERRUPTED
    assert "interrupted; a plan writes nothing, so nothing is left half-done" in capsys.readouterr().err
    # A half-made HTTP response's failing clean-up at exit is not printed as a traceback.
    assert sys.unraisablehook is not before


def test_ctrl_c_during_a_local_deploy_says_what_stays_and_how_to_remove_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(localaws_command, "run", interrupt)
    monkeypatch.setattr(localaws_command, "_use", lambda _: None)
    assert localaws_command.main(["deploy", "--endpoint-url", "http://127.0.0.1:9"]) == 130
    said = capsys.readouterr().err
    assert "interrupted. The local AWS at http://127.0.0.1:9 keeps what was done so far" in said
    assert "python -m localaws destroy" in said


def test_ctrl_c_during_make_demo_says_nothing_outside_it_was_touched(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "demo", interrupt)
    assert demo.main() == 130
    assert "nothing outside it was touched" in capsys.readouterr().err
