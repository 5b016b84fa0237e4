"""Every command the README gives a person is held to what it names: each `make` verb is a target of the
Makefile; each expel-onboarding command parses; each `sam` and `aws` command names a template that
exists, parameters that template declares (every required one given) and the capabilities it needs, or an
operation and parameters botocore's model of that service has; the jq program that takes our entry off the
bucket is the one the product prints. The `$ expel-onboarding` samples are also run, and their output
compared, by test_readme_samples.py. Commands against a real account (sam deploy, aws ...) cannot run
here: this is what can be known of them without one."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from expel_onboarding import notification
from expel_onboarding_cli import cli, template_parameters
from localaws import templates
from tests.support.cfn_template import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^ *```(\w*)$")
PLACEHOLDER = re.compile(r"<[^<>]+>|\$\([^()]*(?:\([^()]*\)[^()]*)*\)")
# A placeholder's stand-in, by the option it follows: a value each option accepts.
STAND_INS = {"--region": "us-east-1", "--stack-name": "expel-cloudtrail-onboarding", "--profile": "admin"}
# The variables a README command reads, with a value of the kind each holds.
VARIABLE = re.compile(r"\$\{?([A-Z_]+)\}?")
VARIABLES = {"LOCALAWS_ENDPOINT": "http://127.0.0.1:4566"}
AWS_GLOBAL_OPTIONS = {"--query", "--output", "--region", "--profile", "--endpoint-url"}
AWS_SERVICES = {"s3api": "s3"}
# The templates sam builds from, by the build directory a README block gives them.
BUILT_FROM = {".aws-sam/org/template.yaml": "org/management.yaml", ".aws-sam/build/template.yaml": "template.yaml"}


@dataclass(frozen=True)
class Command:
    line: int
    argv: tuple[str, ...]
    # Words that were placeholders (<...> or $(...)) in the README, by their index in argv.
    placeholders: frozenset[int]

    def __str__(self) -> str:
        return f"README.md:{self.line}: {shlex.join(self.argv)}"


def shell_lines() -> list[tuple[int, str]]:
    """The shell text of every fenced block (bash blocks, and the $ lines of sample blocks), continuation
    lines joined."""
    found: list[tuple[int, str]] = []
    fenced, language, pending, start = False, "", "", 0
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), start=1):
        opening = FENCE.match(line)
        if opening:
            fenced, language = (not fenced), opening[1]
            continue
        text = line.strip()
        if not fenced:
            continue
        if language != "bash":
            if text.startswith("$ "):
                found.append((number, text[2:]))
            continue
        if not pending:
            start = number
        pending += " " + text.removesuffix("\\")
        if not text.endswith("\\"):
            found.append((start, pending.strip()))
            pending = ""
    return found


@cache
def commands() -> tuple[Command, ...]:
    made = []
    lines = shell_lines()
    # A command substitution's own command, such as $(aws organizations list-roots ...), is a command too.
    lines += [(number, inner) for number, text in lines for inner in re.findall(r"\$\(([^()]*)\)", text)]
    for number, text in lines:
        marked = VARIABLE.sub(lambda m: VARIABLES[m[1]], PLACEHOLDER.sub("PLACEHOLDER", text))
        words = shlex.split(marked, comments=True)
        for segment in _segments(words):
            placeholders = frozenset(i for i, word in enumerate(segment) if "PLACEHOLDER" in word)
            argv = tuple(_stand_in(segment, i) if i in placeholders else word for i, word in enumerate(segment))
            made.append(Command(number, argv, placeholders))
    return tuple(made)


def _segments(words: list[str]) -> list[list[str]]:
    """A line's commands: split at pipes, && and ;, and a redirection's target dropped."""
    segments: list[list[str]] = [[]]
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("|", "&&", ";"):
            segments.append([])
        elif word == ">":
            skip = True
        else:
            segments[-1].append(word)
    return [segment for segment in segments if segment]


def _stand_in(words: list[str], index: int) -> str:
    before = words[index - 1] if index else ""
    return STAND_INS.get(before, words[index])


def program(command: Command) -> str:
    return Path(command.argv[0]).name


def of(name: str) -> list[Command]:
    return [command for command in commands() if program(command) == name]


def test_the_readme_gives_commands_of_each_kind() -> None:
    assert {program(command) for command in commands()} >= {"make", "expel-onboarding", "sam", "aws", "jq"}


@pytest.mark.parametrize("command", of("make"), ids=str)
def test_each_make_verb_is_a_target(command: Command) -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    verbs = [word for word in command.argv[1:] if "=" not in word]
    assert verbs
    assert set(verbs) <= targets, command


@pytest.mark.parametrize("command", of("expel-onboarding"), ids=str)
def test_each_expel_onboarding_command_parses(command: Command) -> None:
    arguments = cli.parser().parse_args(list(command.argv[1:]))
    assert arguments.command in ("plan", "check", "repair", "outputs", "freshness", "replay")


@pytest.mark.parametrize("command", of("sam"), ids=str)
def test_each_sam_command_names_a_template_its_parameters_and_capabilities(command: Command) -> None:
    options = _options(command)
    verb = command.argv[1]
    assert verb in ("build", "deploy", "delete"), command
    if verb == "build":
        assert (ROOT / options["--template"][0]).is_file(), command
    elif verb == "delete":
        assert options["--stack-name"] == ["expel-cloudtrail-onboarding"], command
    elif "--guided" in command.argv:
        # The guided deploy asks for every parameter; samconfig.toml names the capabilities it passes.
        samconfig = (ROOT / "samconfig.toml").read_text(encoding="utf-8")
        assert _needed_capabilities(ROOT / "template.yaml") <= set(re.findall(r"CAPABILITY_\w+", samconfig))
    else:
        _deploy_holds(command, ROOT / BUILT_FROM[options["--template-file"][0]], options)


@pytest.mark.parametrize("command", of("aws"), ids=str)
def test_each_aws_command_is_an_operation_with_its_parameters(command: Command) -> None:
    service, operation = command.argv[1], command.argv[2]
    options = _options(command)
    if (service, operation) == ("cloudformation", "deploy"):
        _deploy_holds(command, ROOT / options["--template-file"][0], options)
        return
    model = botocore.session.get_session().get_service_model(AWS_SERVICES.get(service, service))
    name = "".join(part.capitalize() for part in operation.split("-"))
    assert name in model.operation_names, command
    members = (
        {re.sub(r"(?<!^)(?=[A-Z])", "-", member).lower() for member in model.operation_model(name).input_shape.members}
        if model.operation_model(name).input_shape
        else set()
    )
    for option in options:
        assert option in AWS_GLOBAL_OPTIONS or option.removeprefix("--") in members, (option, command)
    required = (
        model.operation_model(name).input_shape.required_members if model.operation_model(name).input_shape else []
    )
    for member in required:
        assert "--" + re.sub(r"(?<!^)(?=[A-Z])", "-", member).lower() in options, (member, command)


def test_the_jq_program_that_takes_our_entry_off_the_bucket_is_the_products() -> None:
    (jq,) = of("jq")
    program_text = jq.argv[-1]
    target = notification.Target("bucket", "123456789012", "ExpelOnboardingA1B2C3D4E5F6", "arn:aws:sns:::t")
    assert shlex.quote(program_text) in notification.removal_command(target) or program_text in (
        notification.removal_command(target)
    )


def _options(command: Command) -> dict[str, list[str]]:
    """Each --option and the words after it, up to the next option."""
    found: dict[str, list[str]] = {}
    current = ""
    for word in command.argv[1:]:
        if word.startswith("--"):
            current = word
            found.setdefault(current, [])
        elif current:
            found[current].append(word)
    return found


def _deploy_holds(command: Command, template: Path, options: dict[str, list[str]]) -> None:
    """sam deploy's or aws cloudformation deploy's overrides and capabilities, against the template."""
    declared = template_parameters.declared(template)
    given = dict(word.split("=", 1) for word in options.get("--parameter-overrides", []))
    assert set(given) <= set(declared), (set(given) - set(declared), command)
    for name in declared:
        value = given.get(name)
        refused = template_parameters.refusal(declared, name, value)
        placeholder = value is not None and "PLACEHOLDER" in value
        assert refused is None or placeholder, (refused, command)
    assert _needed_capabilities(template) <= set(options.get("--capabilities", [])), command


def _needed_capabilities(template: Path) -> set[str]:
    """What CloudFormation asks the deploy to acknowledge (AWS CloudFormation User Guide, "Acknowledging IAM
    resources in CloudFormation templates"): CAPABILITY_NAMED_IAM for IAM resources with custom names (else
    CAPABILITY_IAM), CAPABILITY_AUTO_EXPAND for a transform."""
    parsed: dict[str, Any] = templates.read(template)
    iam = [r for r in parsed.get("Resources", {}).values() if str(r.get("Type", "")).startswith("AWS::IAM::")]
    named = any("RoleName" in r.get("Properties", {}) or "ManagedPolicyName" in r.get("Properties", {}) for r in iam)
    needed = {"CAPABILITY_NAMED_IAM"} if named else {"CAPABILITY_IAM"} if iam else set()
    if parsed.get("Transform"):
        needed.add("CAPABILITY_AUTO_EXPAND")
    return needed
