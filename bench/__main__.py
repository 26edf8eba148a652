"""`make bench` / `.venv/bin/python -m bench`: run every measurement once and write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from bench.common import FAKE_AWS, POWERTOOLS_ENV, ROOT, median, run_json_module, say


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
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


def _phase(results: dict[str, Any], key: str, title: str, action: Callable[[], Any]) -> None:
    say(f"== {title}")
    started = time.perf_counter()
    try:
        results[key] = action()
    except Exception as error:  # noqa: BLE001 - a tool: report what failed, measure the rest
        traceback.print_exc()
        results[key] = {"error": f"{type(error).__name__}: {str(error)[:500]}"}
    say(f"   ({time.perf_counter() - started:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    # No real account anywhere below: the children inherit fake credentials, never a real AWS_* variable.
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    # POWERTOOLS_ENV too: under 100 concurrent workflows a handler thread of `python -m local` can miss
    # its own environment and fall back to the process's (Powertools then needs a metrics namespace).
    os.environ.update({**FAKE_AWS, **POWERTOOLS_ENV})
    sys.path.insert(0, str(ROOT))

    from bench import coldstart, iam, latency, machine, package, report

    results: dict[str, Any] = {"started": time.time()}
    begun = time.perf_counter()
    bare = ["--runs", str(args.runs), "--warmup", str(args.warmup), "--concurrent", str(args.concurrent),
            "--workers", str(args.workers)]
    phases = [
        ("machine", "machine", machine.describe),
        ("package", "2. deployment artifact (serverless package)", None if args.skip_package else package.build),
        ("cold_start", f"1. cold start per handler, from its zip ({args.cold_runs} rounds)",
         lambda: coldstart.measure(args.cold_runs, package.BUILD)),
        ("inproc", "3. cost per execution (in-process engine)", lambda: run_json_module("bench.inproc", timeout=600)),
        ("reminders", "3. cost per execution with reminders (approved after the second reminder)",
         lambda: run_json_module("bench.inproc", ["--reminders", "2"], timeout=300)),
        ("latency", f"4. local engine speed ({args.runs} runs, {args.concurrent} concurrent)",
         lambda: latency.measure(args.runs, args.warmup, args.concurrent, args.workers)),
        ("iam", f"4. local IAM check on vs off ({args.runs} + {args.runs} runs), warm ready time",
         lambda: iam.measure(args.runs, args.warmup)),
        ("bare", "4. reference: bare moto", lambda: run_json_module("bench.bare", bare, timeout=600)),
    ]
    for key, title, action in phases:
        if action is not None:
            _phase(results, key, title, action)
    results["load_at_end"] = os.getloadavg()
    results["elapsed"] = time.perf_counter() - begun

    text, verdicts = report.build(results, args)
    args.output.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    say("")
    say("target | figure | limit | verdict")
    for target, figure, limit, met in verdicts.rows:
        say(f"  {target}: {figure} (limit {limit}) -> {'n/a' if met is None else 'met' if met else 'MISSED'}")
    latency_results = results.get("latency") or {}
    if latency_results.get("start_to_email"):
        say(f"  (p50 start -> email {median(latency_results['start_to_email']) * 1000:.1f} ms)")
    say(f"wrote {args.output} in {results['elapsed'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
