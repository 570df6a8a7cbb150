"""``python -m tests.faults``: the fault campaign from the command line.

    python -m tests.faults --seed 7 --faults 12                    # both databases, 12 faults each
    python -m tests.faults --seed 7 --database sqlite --faults 4   # replay a failure at step 3

The report (JSON) goes to stdout, a line per step to stderr. A broken invariant ends the run
with exit code 1, its seed, database, step and fault, and the command that replays it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from tests.faults.campaign import campaign
from tests.faults.plan import BACKENDS, InvariantError

DEFAULT_SEED = 20261206


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--seed", type=int, default=int(os.environ.get("CARBONX_FAULTS_SEED", DEFAULT_SEED))
    )
    parser.add_argument("--faults", type=int, default=12, help="faults per database")
    parser.add_argument("--database", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--workdir", type=Path, default=None, help="databases and server logs")
    args = parser.parse_args(argv)
    backends = list(BACKENDS) if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory(prefix="carbonx-faults-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            report = asyncio.run(campaign(args.seed, backends, args.faults, workdir))
        except InvariantError as error:
            print(f"FAILED {error}", file=sys.stderr)
            print(json.dumps({"seed": args.seed, "failed": str(error)}, indent=1))
            return 1
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
