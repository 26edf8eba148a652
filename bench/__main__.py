"""`make bench` / `.venv/bin/python -m bench`: run every measurement once and write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.common import FAKE_AWS, POWERTOOLS_ENV, ROOT, run_json_module, say

PARTS = ("package", "cold_start", "cost", "speed", "iam")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="run this part alone (repeatable); with --output, not to overwrite BENCHMARKS.md")
    parser.add_argument("--skip-package", action="store_true",
                        help="do not run `serverless package` (the cold start uses the zips already in .serverless/)")
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke run, not figures to quote")
    parser.add_argument("--cold-runs", type=int, default=15, help="cold-start runs per handler (>= 7)")
    parser.add_argument("--runs", type=int, default=60, help="sequential workflows for latency (>= 50)")
    parser.add_argument("--warmup", type=int, default=2, help="workflows before the measured ones")
    parser.add_argument("--concurrent", type=int, default=100, help="workflows run at once")
    parser.add_argument("--workers", type=int, default=16, help="client threads for the concurrent run")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.cold_runs, args.runs, args.concurrent = 3, 10, 20
    return args


def machine() -> dict[str, Any]:
    """The machine and the versions the figures come from (this process runs in the venv)."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    osls = json.loads((ROOT / "node_modules" / "osls" / "package.json").read_text())["version"]
    return {
        "CPU": next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                    platform.machine()),
        "cores (usable)": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))})",
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python (venv)": platform.python_version(),
        **{name: version(name) for name in ("moto", "boto3", "botocore", "aws-lambda-powertools", "requests")},
        "Node": node, "Serverless": f"osls {osls}",
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    # No real account anywhere below: the children inherit fake credentials, never a real AWS_* variable.
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    # POWERTOOLS_ENV too: under 100 concurrent workflows a handler thread of `python -m local` can miss
    # its own environment and fall back to the process's (Powertools then needs a metrics namespace).
    os.environ.update({**FAKE_AWS, **POWERTOOLS_ENV})
    sys.path.insert(0, str(ROOT))

    from bench import coldstart, latency, package, report

    bare = ["--runs", str(args.runs), "--warmup", str(args.warmup), "--concurrent", str(args.concurrent),
            "--workers", str(args.workers)]
    phases = [  # (part, results key, what measures it), in the order they run
        ("package", "package", None if args.skip_package else package.build),
        ("cold_start", "cold_start", lambda: coldstart.measure(args.cold_runs, package.BUILD)),
        ("cost", "cost", lambda: run_json_module("bench.inproc", timeout=600)),
        ("cost", "reminders", lambda: run_json_module("bench.inproc", ["--reminders", "2"], timeout=300)),
        ("speed", "speed", lambda: latency.measure(args.runs, args.warmup, args.concurrent, args.workers)),
        ("iam", "iam", lambda: latency.iam(args.runs, args.warmup)),
        ("speed", "bare", lambda: run_json_module("bench.bare", bare, timeout=600)),
    ]
    results: dict[str, Any] = {"started": time.time(), "quick": args.quick, "load_at_start": os.getloadavg(),
                               "machine": machine()}
    begun = time.perf_counter()
    for part, key, action in phases:
        if args.only and part not in args.only:
            continue
        if action is None:
            results[key] = {"error": "skipped (`--skip-package`)"}
            continue
        say(f"== {key}")
        started = time.perf_counter()
        try:
            results[key] = action()
        except Exception as error:  # noqa: BLE001 - a tool: report what failed, measure the rest
            traceback.print_exc()
            results[key] = {"error": f"{type(error).__name__}: {str(error)[:500]}"}
        say(f"   ({time.perf_counter() - started:.1f} s)")
    results["load_at_end"] = os.getloadavg()
    results["elapsed"] = time.perf_counter() - begun

    text, targets = report.build(results)
    args.output.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    say("")
    for target, figure, limit, verdict in targets:
        say(f"  {target}: {figure} (limit {limit}) -> {verdict.strip('*')}")
    say(f"wrote {args.output} in {results['elapsed'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
