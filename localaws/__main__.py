"""python -m localaws: the local AWS and its landing zone, one piece at a time, or the whole demo.

start                  run the local AWS here until Ctrl-C; prints its endpoint
seed    --endpoint-url seed the Control Tower landing zone into a running local AWS
        [--landing-zone {3,4.0}]  its generation (default 3)
deploy  --endpoint-url build org/management.yaml and template.yaml and deploy them there (each in its account)
destroy --endpoint-url delete the stack
demo                   all of it, with checks, in one run (make demo)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import warnings


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
    arguments = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if arguments.command == "demo":
        from localaws.demo import main as demo

        return demo()
    if arguments.command == "start":
        from localaws import server

        with server.running() as endpoint:
            print(f"local AWS at {endpoint}  (export LOCALAWS_ENDPOINT={endpoint}; Ctrl-C stops it)", flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
    if not arguments.endpoint_url:
        parser.error(f"{arguments.command} needs --endpoint-url (or LOCALAWS_ENDPOINT) of a running 'start'")
    _use(arguments.endpoint_url)
    from localaws import deploy, landing_zone

    if arguments.command == "seed":
        zone = landing_zone.seed(arguments.landing_zone)
        print(json.dumps(zone.__dict__, indent=2, default=str))
    elif arguments.command == "deploy":
        from localaws import demo

        org = deploy.org_outputs() or deploy.deploy_org(demo.org_parameters(landing_zone.cloudtrail_key_arn()))
        outputs = deploy.deploy(
            {
                "WorkbenchExternalId": landing_zone.EXTERNAL_ID,
                "KeyPolicyDelegateArn": org["KeyPolicyDelegateArn"],
                "NotificationPrefix": "AWSLogs/",
            }
        )
        print(json.dumps(outputs, indent=2))
    else:
        deploy.destroy()
        print(f"deleting {deploy.STACK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
