"""Every replacement the local AWS makes is declared in localaws.registry and applied through
localaws.replacements: a gap that no longer fits the installed libraries fails loudly with its name, a speedup
steps aside with one warning, and LOCALAWS_SPEEDUPS=off turns every speedup off."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from localaws import ROOT, clients, lambda_runtime, replacements
from localaws.replacements import GapNoLongerFits, Kind, Replacement, SpeedupSteppedAside


def test_every_replacement_fits_the_installed_libraries() -> None:
    assert {name: r.misfit() for name, r in replacements.BY_NAME.items() if r.misfit()} == {}
    # The count of each kind (make bench and the notes quote them).
    assert (len(replacements.GAPS), len(replacements.SPEEDUPS)) == (25, 18)


def test_nothing_in_localaws_replaces_an_attribute_but_the_registry() -> None:
    patching = [
        path.name
        for path in (ROOT / "localaws").glob("*.py")
        if path.name != "replacements.py" and ("mock.patch" in path.read_text() or "setattr(" in path.read_text())
    ]
    assert patching == []


GONE = "json:no_such_function_anywhere"


def test_a_gap_that_no_longer_fits_fails_loudly_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = Replacement("a-gap", Kind.GAP, (GONE,), "json:dumps", "json having it")
    monkeypatch.setitem(replacements.BY_NAME, "a-gap", gone)
    with pytest.raises(GapNoLongerFits, match=r"gap a-gap: json:no_such_function_anywhere is gone"):  # noqa: SIM117
        with replacements.applied("a-gap"):
            pass


def test_a_speedup_that_no_longer_fits_steps_aside_with_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = Replacement("a-speedup", Kind.SPEEDUP, ("json:dumps",), "json:loads", "a dumps(a, b)", lambda _: False)
    monkeypatch.setitem(replacements.BY_NAME, "a-speedup", changed)
    monkeypatch.setenv(replacements.SPEEDUPS_SWITCH, "on")
    before = json.dumps
    warned = pytest.warns(SpeedupSteppedAside, match="speedup a-speedup stepped aside .*only slower")
    with warned, replacements.applied("a-speedup"):
        assert json.dumps is before
    with replacements.applied("a-speedup"):  # said once a process
        assert json.dumps is before


def test_speedups_off_leaves_every_speedups_target_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(replacements.SPEEDUPS_SWITCH, "off")
    targets = {
        target: replacements.BY_NAME[name].owner(target)
        for name in replacements.SPEEDUPS
        for target in replacements.BY_NAME[name].targets
    }
    before = {target: getattr(owner, attribute) for target, (owner, attribute) in targets.items()}
    with replacements.applied(*replacements.SPEEDUPS):
        assert {target: getattr(owner, attribute) for target, (owner, attribute) in targets.items()} == before


def test_a_replacement_is_undone_when_its_context_ends() -> None:
    # One the functional tests' own gaps do not apply: only the local server's.
    from moto.organizations import utils

    before = utils.make_random_account_id
    with replacements.applied("organizations-seeded-account-ids", member_ids=("222233334444",)):
        assert utils.make_random_account_id is not before
    assert utils.make_random_account_id is before


def test_a_method_moto_lacks_is_created_while_applied() -> None:
    from moto.iam.responses import IamResponse

    # The functional tests run inside service_gaps.filled(), which applies the policy simulator.
    assert vars(IamResponse)["simulate_principal_policy"].__module__ == "localaws.policy_simulator"


def test_a_function_runs_in_process_through_moto_lambda_invoke() -> None:
    code = b"def handler(event, context):\n    return {'echo': event['value'], 'function': context.function_name}\n"
    archive = deployment_zip(code)
    iam = clients.iam()
    role = iam.create_role(RoleName="smoke", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    with lambda_runtime.in_process_lambda():
        clients.lambda_().create_function(
            FunctionName="smoke", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": archive}
        )
        response = clients.lambda_().invoke(FunctionName="smoke", Payload=json.dumps({"value": 42}))
    assert json.loads(response["Payload"].read()) == {"echo": 42, "function": "smoke"}


def deployment_zip(source: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_the_runtime_keeps_the_products_clients_only_while_the_aws_environment_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each client stays referenced, so a new one cannot reuse a freed one's id.
    code = b"from expel_onboarding import clients\nmade = []\ndef handler(event, context):\n"
    code += b"    made.append(clients.s3())\n    return id(made[-1])\n"
    role = clients.iam().create_role(RoleName="clients", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = clients.lambda_()
    with lambda_runtime.in_process_lambda():
        client.create_function(
            FunctionName="clients",
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": deployment_zip(code)},
        )
        first, second = (json.loads(client.invoke(FunctionName="clients")["Payload"].read()) for _ in range(2))
        # Another endpoint (a test's local AWS server after a mocked one): the next function needs new clients.
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        third = json.loads(client.invoke(FunctionName="clients")["Payload"].read())
    assert first == second != third
