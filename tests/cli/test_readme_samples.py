"""The README's CLI samples are what the CLI prints: each `$ expel-onboarding ...` line in them is run,
as written, against a local landing zone, and its output compared line by line.

Ids that change on every run (the organization, keys, the stack's Sid, queue names, run names) are
written the same way on both sides first. In a sample, a line `...` stands for any number of lines,
and `...` inside a line for any text; `(exit N)` is the exit code. When a test here fails, run the
command it names and paste its output into the README.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest

from expel_onboarding_cli import cli
from localaws import clients, deploy, landing_zone, stack_parameters
from tests.support.cfn_template import ROOT
from tests.support.local_aws import local_aws

README = ROOT / "README.md"
PROMPT = "$ expel-onboarding "
EXIT = re.compile(r"^\(exit (\d+)\)$")
VOLATILE = [
    (re.compile(r"\bo-[a-z0-9]{10}\b"), "o-ORGANIZATION"),
    (re.compile(r"key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "key/KEY"),
    (re.compile(r"ExpelOnboarding[0-9A-F]{12}"), "ExpelOnboardingSTACKHASH"),
    (re.compile(r"\b(apply|check|repair|remove)-cli-\d{8}T\d{6}-[0-9a-f]{8}\b"), r"\1-cli-RUN"),
    (re.compile(r"-NotificationQueue-[A-Za-z0-9]+"), "-NotificationQueue-ID"),
    (
        re.compile(r"\b(create|update|delete)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        r"\1-REQUEST",
    ),
    (re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\b"), "DAY TIME UTC"),
]


@dataclass(frozen=True)
class Sample:
    """One command of a README block, with the output and exit code the README shows for it."""

    line: int
    command: str
    expected: tuple[str, ...]
    exit_code: int | None


def normalized(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text.rstrip()


@cache
def samples() -> tuple[Sample, ...]:
    """Every command in the README's fenced blocks that start with `$ expel-onboarding`."""
    found: list[Sample] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("```") and index + 1 < len(lines) and lines[index + 1].startswith(PROMPT):
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            found += _commands(lines[index + 1 : end], index + 2)
            index = end
        index += 1
    return tuple(found)


def _commands(block: list[str], first_line: int) -> list[Sample]:
    commands: list[Sample] = []
    position = 0
    while position < len(block):
        start = position
        command = block[position]
        while command.endswith("\\"):
            position += 1
            command = command[:-1] + " " + block[position].strip()
        position += 1
        output: list[str] = []
        while position < len(block) and not block[position].startswith(PROMPT):
            output.append(block[position])
            position += 1
        while output and not output[-1].strip():
            output.pop()
        exit_code = None
        if output and EXIT.match(output[-1]):
            exit_code = int(EXIT.match(output.pop()).group(1))  # type: ignore[union-attr]
        commands.append(Sample(first_line + start, command.removeprefix("$ "), tuple(output), exit_code))
    return commands


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    """Whether actual reads as expected, where a line `...` is any lines and `...` in a line any text."""
    patterns = [
        None if line.strip() == "..." else re.compile(".*".join(map(re.escape, normalized(line).split("..."))))
        for line in expected
    ]

    @cache
    def fits(e: int, a: int) -> bool:
        if e == len(patterns):
            return a == len(actual)
        pattern = patterns[e]
        if pattern is None:
            return any(fits(e + 1, later) for later in range(a, len(actual) + 1))
        return a < len(actual) and pattern.fullmatch(actual[a]) is not None and fits(e + 1, a + 1)

    return fits(0, 0)


def run(sample: Sample, endpoint: str) -> tuple[int, list[str]]:
    argv = shlex.split(sample.command.replace("$LOCALAWS_ENDPOINT", endpoint))
    assert argv[0] == "expel-onboarding", sample
    out = io.StringIO()
    code = cli.main(argv[1:], out=out)
    return code, [normalized(line) for line in out.getvalue().splitlines()]


def check(sample: Sample, endpoint: str) -> None:
    code, actual = run(sample, endpoint)
    shown = "\n".join(actual)
    where = f"README.md line {sample.line}: `{sample.command}`"
    assert matches(sample.expected, actual), f"{where} now prints (ids normalized):\n{shown}"
    if sample.exit_code is not None:
        assert code == sample.exit_code, f"{where} exits {code}, not {sample.exit_code}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with local_aws() as url:
        yield url


@pytest.fixture(scope="module")
def zone(endpoint: str) -> landing_zone.LandingZone:
    return landing_zone.seed("3")


def verb(sample: Sample) -> str:
    return shlex.split(sample.command)[1]


def test_the_readme_has_plan_check_and_repair_samples() -> None:
    assert {"plan", "check", "repair"} <= {verb(sample) for sample in samples()}
    assert all(sample.exit_code is not None for sample in samples())


def test_the_plan_samples_are_what_plan_prints_before_a_deploy(endpoint: str, zone: landing_zone.LandingZone) -> None:
    for sample in samples():
        if verb(sample) == "plan":
            check(sample, endpoint)


def test_the_check_and_repair_samples_are_what_they_print_after_our_entry_was_deleted(
    endpoint: str, zone: landing_zone.LandingZone
) -> None:
    deploy.deploy(stack_parameters.parameters(zone))
    config = landing_zone.notifications_of(zone.bucket)
    config["TopicConfigurations"] = [
        entry for entry in config.get("TopicConfigurations", []) if not entry["Id"].startswith("ExpelOnboarding")
    ]
    clients.s3().put_bucket_notification_configuration(Bucket=zone.bucket, NotificationConfiguration=config)  # type: ignore[arg-type]
    for sample in samples():
        if verb(sample) in ("check", "repair", "outputs"):
            check(sample, endpoint)


def test_a_sample_that_differs_from_the_output_fails() -> None:
    expected = ("Step  Status", "Discover  OK  Management account ... is in us-east-1. ...", "...", "(end)")
    assert matches(
        expected, ["Step  Status", "Discover  OK  Management account 1 (o-x) is in us-east-1. More", "(end)"]
    )
    assert not matches(expected, ["Step  Status", "Discover  DRIFTED  Management account 1", "(end)"])
    assert not matches(expected, ["Step  Status", "Discover  OK  Management account 1 is in us-east-1. x"])
