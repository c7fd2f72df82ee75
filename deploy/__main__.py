"""`python -m deploy up|down|delete-data`: what `make deploy`, `make destroy` and `make destroy-data` run."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from deploy.stack import Clients, DeployError, deploy, destroy, destroy_data
from deploy.target import TargetError, load_target

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "delete-data"))
    command = parser.parse_args(argv).command
    ask = input if sys.stdin.isatty() else None
    needed = (
        ("region", "stack_name", "login_prefix", "alarm_email", "admin_email")
        if command == "up"
        else ("region", "stack_name")
    )
    try:
        target = load_target(ROOT, os.environ, ask, needed=needed)
        clients = Clients.for_region(target.region)
        if command == "up":
            print(f"Packaging stage {target.stage} (make package)…", flush=True)
            env = {**os.environ, "AWS_DEFAULT_REGION": target.region}
            subprocess.run(
                ["make", "--no-print-directory", "package", f"STAGE={target.stage}"], cwd=ROOT, env=env, check=True
            )
            deploy(target, clients, ROOT / "out")
        elif command == "down":
            destroy(target, clients, ROOT)
        else:
            destroy_data(target, clients, ROOT, ask or (lambda _: ""))
    except (TargetError, DeployError) as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:  # no credentials, no permission, a refused call
        print(f"\nAWS refused: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"\n`{' '.join(error.cmd)}` failed (exit {error.returncode}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
