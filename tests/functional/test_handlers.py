"""Each step's Lambda handler, run with its sample event from events/ on a seeded landing zone."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from expel_onboarding import caches
from localaws import lambda_runtime, landing_zone, stack_resources
from localaws.aws_calls import AwsCalls
from localaws.lambda_context import FakeContext
from tests.support.cfn_template import ROOT

STEPS = ["discover", "ownership", "key_policy", "notification", "verify"]


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def handler(step: str) -> Any:
    return importlib.import_module(f"functions.{step}.app").lambda_handler


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[landing_zone.LandingZone]:
    # The key-policy and verify handlers invoke the management account's delegate, in this process.
    with lambda_runtime.in_process_lambda():
        zone = landing_zone.seed()
        for name, value in stack_resources.deploy_stack_resources(zone).items():
            monkeypatch.setenv(name, value)
        caches.reset()
        yield zone
        caches.reset()


def run(step: str, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler(step)(event, FakeContext())
    return result


@pytest.mark.parametrize("step", STEPS)
def test_each_handler_answers_its_sample_input_in_the_shape_of_its_sample_output(
    deployed: landing_zone.LandingZone, step: str
) -> None:
    event = sample(f"{step}-input")
    if "Discover" in event:
        event["Discover"] = run("discover", {"Mode": event["Mode"]})
    if step == "verify":
        for earlier in ("key_policy", "notification"):
            run(earlier, event)
    expected = sample(f"{step}-output")
    result = run(step, event)
    assert result["Name"] == expected["Name"]
    assert result["Status"] == expected["Status"], result["Detail"]
    assert set(result["Data"]) == set(expected["Data"])


def test_discover_reads_the_seeded_organization(deployed: landing_zone.LandingZone) -> None:
    data = run("discover", {"Mode": "check"})["Data"]
    assert data["ManagementAccountId"] == landing_zone.MANAGEMENT
    assert data["CloudTrailKeyArn"] == deployed.cloudtrail_key_arn


def test_a_full_apply_then_remove_leaves_other_teams_exactly_as_they_were(deployed: landing_zone.LandingZone) -> None:
    discovered = run("discover", {"Mode": "apply"})
    for step in ("ownership", "key_policy", "notification"):
        run(step, {"Mode": "apply", "Discover": discovered})
    assert run("verify", {"Mode": "apply", "Discover": discovered})["Status"] == "OK"
    for step in ("notification", "key_policy", "ownership"):
        run(step, {"Mode": "remove", "Discover": discovered})
    assert landing_zone.notifications_of(deployed.bucket) == deployed.foreign_notifications
    assert landing_zone.key_policy_of(deployed.cloudtrail_key_arn) == deployed.foreign_key_policy


def test_a_converged_check_makes_no_writes(deployed: landing_zone.LandingZone) -> None:
    discovered = run("discover", {"Mode": "apply"})
    for step in ("ownership", "key_policy", "notification"):
        run(step, {"Mode": "apply", "Discover": discovered})
    calls = AwsCalls().start()
    statuses = [run(step, {"Mode": "check", "Discover": discovered})["Status"] for step in STEPS]
    assert statuses == ["OK"] * 5
    assert calls.writes == []


def test_an_unknown_mode_is_refused_with_the_valid_ones(deployed: landing_zone.LandingZone) -> None:
    with pytest.raises(Exception, match="apply, check, repair, remove") as raised:
        run("notification", {"Mode": "fix"})
    assert type(raised.value).__name__ == "InvalidInput"
