"""python -m localaws: the local AWS and its landing zone, one piece at a time, or the whole demo.

start                  run the local AWS here until Ctrl-C; prints its endpoint
seed    --endpoint-url seed the Control Tower landing zone into a running local AWS
        [--landing-zone {3,4.0}]  its generation (default 3)
deploy  --endpoint-url build org/management.yaml and template.yaml and deploy them there (each in its account);
                       prints template.yaml's outputs and the management account's KeyPolicyDelegateArn
        [--parameter-overrides Name=Value ...]  template.yaml's parameters, as sam deploy takes them
                       (default: the landing zone's WorkbenchExternalId, and the org stack's delegate)
destroy --endpoint-url delete both stacks, and everything they made
demo                   all of it, with checks, in one run (make demo)

--endpoint-url defaults to LOCALAWS_ENDPOINT, which `start` prints (expel-onboarding takes it too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import warnings
from contextlib import redirect_stderr, redirect_stdout

from expel_onboarding_cli.template_parameters import override


def _use(endpoint: str) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "localaws",
            "AWS_SECRET_ACCESS_KEY": "localaws",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localaws", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "seed", "deploy", "destroy", "demo"])
    parser.add_argument("--endpoint-url", default=os.environ.get("LOCALAWS_ENDPOINT", ""))
    # landing_zone.GENERATIONS, spelled out: landing_zone is imported only once the endpoint is set.
    parser.add_argument(
        "--landing-zone", choices=["3", "4.0"], default="3", help="seed: the Control Tower landing zone generation"
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="Name=Value",
        type=override,
        help="deploy: template.yaml's parameters, as sam deploy takes them",
    )
    parser.add_argument(
        "--workbench-external-id", default="", help="deploy: the same as --parameter-overrides WorkbenchExternalId="
    )
    arguments = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if arguments.command == "demo":
        from localaws.demo import main as demo

        return demo()
    if arguments.command == "start":
        from localaws import log_files, server

        with server.running() as endpoint:
            log = log_files.path_for(endpoint.rsplit(":", 1)[-1])
            print(f"local AWS at {endpoint}  (export LOCALAWS_ENDPOINT={endpoint}; Ctrl-C stops it)", flush=True)
            print(f"its functions' and services' logs: {log}", flush=True)
            screen = sys.stderr
            # What functions print (Powertools writes to stdout) goes with their logs, as in CloudWatch Logs.
            with log_files.kept_in(log, screen) as written, redirect_stdout(written), redirect_stderr(written):
                try:
                    threading.Event().wait()
                except KeyboardInterrupt:
                    return 0
    if not arguments.endpoint_url:
        parser.error(f"{arguments.command} needs --endpoint-url (or LOCALAWS_ENDPOINT) of a running 'start'")
    if not arguments.endpoint_url.startswith(("http://", "https://")):
        parser.error(f"--endpoint-url {arguments.endpoint_url!r} has no scheme: use http://{arguments.endpoint_url}")
    _use(arguments.endpoint_url)
    overrides = dict(arguments.parameter_overrides)
    if arguments.workbench_external_id:
        overrides.setdefault("WorkbenchExternalId", arguments.workbench_external_id)
    try:
        return run(arguments.command, arguments.landing_zone, overrides)
    except KeyboardInterrupt:
        print(
            f"\npython -m localaws {arguments.command}: interrupted. The local AWS at {arguments.endpoint_url} keeps "
            "what was done so far: `python -m localaws destroy` deletes the stacks, or stop the local AWS "
            "(Ctrl-C where `start` runs) to drop everything.",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a person: what was found, and the fix
        print(f"python -m localaws {arguments.command}: {explain(exc, arguments.endpoint_url)}", file=sys.stderr)
        return 1


def explain(exc: Exception, endpoint: str) -> str:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from localaws.deploy import DeployFailed

    if isinstance(exc, DeployFailed):
        return str(exc)
    if isinstance(exc, EndpointConnectionError):
        return f"nothing answers at {endpoint}. Start it with `python -m localaws start` and pass the URL it prints."
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    if code == "AlreadyInOrganizationException":
        return "this local AWS is already seeded. Start a new one (`python -m localaws start`) to seed again."
    if code == "AWSOrganizationsNotInUseException":
        return "this local AWS has no landing zone yet. Seed it first: `python -m localaws seed`."
    return f"{type(exc).__name__}: {exc}"


def run(command: str, generation: str, overrides: dict[str, str] | None = None) -> int:
    from localaws import deploy, landing_zone

    if command == "seed":
        zone = landing_zone.seed(generation)
        print(json.dumps(zone.__dict__, indent=2, default=str))
    elif command == "deploy":
        from localaws import stack_parameters

        print("building and deploying the management-account stack, then template.yaml (about 15 s)", file=sys.stderr)
        given = overrides or {}
        external_id = given.get("WorkbenchExternalId", landing_zone.EXTERNAL_ID)
        org = deploy.org_outputs() or deploy.deploy_org(
            {**stack_parameters.org_parameters(landing_zone.cloudtrail_key_arn()), "WorkbenchExternalId": external_id}
        )
        delegate = org["KeyPolicyDelegateArn"]
        outputs = deploy.deploy({"WorkbenchExternalId": external_id, "KeyPolicyDelegateArn": delegate, **given})
        print(json.dumps({**outputs, "KeyPolicyDelegateArn": delegate}, indent=2))
        print(f"The management account's key-policy delegate (KeyPolicyDelegateArn): {delegate}", file=sys.stderr)
    else:
        deleted = deploy.destroy_all()
        print(f"deleted {', '.join(deleted)}" if deleted else f"no stack {deploy.STACK}: nothing to delete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
