"""BENCHMARKS.md from one run's results, and the list of target verdicts printed at the end.

Each section is a short intro and tables built from the results (`table`); the targets are data.
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench import iam
from bench.common import measured, median, mib, ms, percentile, phase_error, ratio, table, verdict

# Prices (us-east-1, on demand). Step Functions Standard bills state transitions; Lambda bills
# requests and GB-seconds (arm64 rate), duration rounded up to the next millisecond.
PRICES = {
    "Step Functions Standard state transitions": (0.025 / 1000, "$0.025 per 1,000"),
    "Lambda requests": (0.20 / 1_000_000, "$0.20 per 1M"),
    "Lambda duration (estimate, GB-s at 256 MB)": (0.0000133334, "$0.0000133334 per GB-s (arm64)"),
}
LAMBDA_MEMORY_GB = 256 / 1024

TARGETS = {
    "pure_import": 0.3,  # validate, finalize: import from the zip, x `import boto3`
    "double_total": 0.6,  # double: import + first event, x `import boto3`
    "floor_ratio": 1.15,  # AWS-calling handlers: import + first event, x their floor
    "zip_bytes": 1024 * 1024,
    "transitions": 5,  # an approved execution without reminders or escalation: no more than one approver cost
    "start_to_email": 0.050,
    "concurrent_ratio": 0.5,  # 100 concurrent workflows, x bare moto
}
PURE = ("validate", "finalize")
COMMANDS = [
    ("1. cold start", "each zip of part 2 unzipped read-only; `python3.12 -S -c <bench/coldstart.py CHILD> <path> handler "
                      "<module> <attr>` per handler, interleaved rounds; references `import boto3` and each handler's floor"),
    ("2. artifact", "`SLS_AWS_REQUEST_MAX_RETRIES=0 npx serverless package --stage dev` without any `AWS_*` variable"),
    ("3. cost", "`.venv/bin/python -m bench.inproc` (local/app.py's LocalApp in one process, GetExecutionHistory)"),
    ("4. speed", "`python -m local` via local/service.py's `LocalService`; reference `.venv/bin/python -m bench.bare`"),
    ("4. IAM check", "two `python -m local`, one with `LOCAL_IAM=off`, sequential workflows in alternating blocks"),
]
MACHINE = [("CPU", "cpu"), ("cores", "cores"), ("usable cores", "usable_cores"), ("memory", "memory"), ("OS", "os"),
           ("Python (venv)", "python"), ("moto", "moto"), ("boto3", "boto3"), ("botocore", "botocore"),
           ("Powertools", "aws-lambda-powertools"), ("requests", "requests"), ("Node", "node"),
           ("Serverless", "serverless")]


class Verdicts:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, bool | None]] = []

    def add(self, target: str, figure: str, limit: str, met: bool | None) -> str:
        self.rows.append((target, figure, limit, met))
        return verdict(met)


def build(results: dict[str, Any], args: Any) -> tuple[str, Verdicts]:
    verdicts = Verdicts()
    out: list[str] = []
    add = out.append
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(results["started"]))
    add("# Benchmarks")
    add("")
    add(f"Written by `make bench` (`.venv/bin/python -m bench`, `--help` for its options) on {started}, in "
        f"{results['elapsed'] / 60:.1f} min; every figure comes from that one run. The machine is shared and noisy: "
        "figures are medians (or percentiles) of repeated runs, each next to a reference measured in the same run. "
        "Targets read met / **missed**; nothing fails on a missed target.")
    add("")
    if args.quick:
        add("> **Quick run** (`--quick`): fewer repetitions than the documented minimums; do not quote these figures.")
        add("")
    table(add, ["part", "command / method"], COMMANDS)
    machine = results["machine"]
    load = [" ".join(f"{x:.2f}" for x in loads or ()) for loads in (machine.get("load_at_start"), results.get("load_at_end"))]
    add("## Machine")
    add("")
    table(add, ["", ""], [(label, machine.get(key)) for label, key in MACHINE]
          + [("load average (1/5/15 min)", f"at start {load[0]}; at end {load[1]}")])
    add("Lambda runs Python 3.12 on arm64: compare these figures with each other and their references, not with "
        "Lambda's absolute numbers.")
    add("")
    body: list[str] = []
    _cold_start(body.append, results.get("cold_start"), verdicts)
    _package(body.append, results.get("package"), verdicts)
    _cost(body.append, results.get("inproc"), verdicts, results.get("reminders"))
    _speed(body.append, results.get("latency"), results.get("bare"), verdicts)
    iam.section(body.append, results.get("iam"), verdicts)
    add("## Targets")
    add("")
    table(add, ["target", "figure", "limit", "verdict"], [(*row[:3], verdict(row[3])) for row in verdicts.rows])
    out.extend(body)
    return "\n".join(out).rstrip() + "\n", verdicts


def _cold_start(add: Any, section: Any, verdicts: Verdicts) -> None:
    if not measured(add, "## 1. Cold start per handler, as Lambda runs it", section, verdicts, "1. cold start"):
        return
    rows = section["rows"]
    boto3_s = next(row for row in rows if row["kind"] == "import")["total_s"]
    add(f"Each zip from part 2 (bytecode included), unzipped read-only and imported by Python "
        f"{section['python_version']} (`{section['python']}`, `-S`, `PYTHONDONTWRITEBYTECODE=1`, a Lambda-like "
        "environment, the runtime's boto3 on `sys.path`); a fresh interpreter per run times the import, then one "
        f"real-shaped first event. Median of {section['runs']} interleaved runs per row. AWS and HTTP calls go to a "
        "local stand-in serving the items the callback store itself writes (bench/coldstart.py). References: "
        f"**`import boto3` = {ms(boto3_s)}**, and each AWS-calling handler's **floor**: `import boto3`, its clients "
        "and the same calls, nothing else (in brackets: boto3 and the clients alone).")
    add("")
    lines, written = [], 0
    for row in (row for row in rows if row["kind"] == "handler"):
        written += row["files_written"]
        http = [call[5:] for call in row["calls"] if call.startswith("http ")]
        floor = row.get("floor_s")
        shares = {"import": row["import_s"] / boto3_s, "total": row["total_s"] / boto3_s,
                  "floor": row["total_s"] / floor if floor else math.nan}
        if row["name"] in PURE:
            key, limit, against = "import", TARGETS["pure_import"], "boto3"
        elif row["name"] == "double":
            key, limit, against = "total", TARGETS["double_total"], "boto3"
        elif row["aws_calls"]:
            key, limit, against = "floor", TARGETS["floor_ratio"], "floor"
        else:
            key, limit, against = "total", None, ""
        met = None if limit is None else shares[key] <= limit
        target = f"{'import' if key == 'import' else 'total'} <= {limit}x {against}" if limit else "–"
        mark = verdicts.add(f"1. cold start `{row['name']}`", f"{shares[key]:.3f}x ({target.split(' <=')[0]})",
                            "<= " + target.split("<= ")[-1], met)
        lines.append((f"`{row['name']}`", f"{row['event']} → {', '.join(row['status'])}",
                      (", ".join(row["aws_calls"]) or "none") + (f" ({', '.join(http)})" if http else ""),
                      ms(row["import_s"]), ms(row["total_s"]), ratio(shares["import"]), ratio(shares["total"]),
                      f"{ms(floor)} ({ms(row['floor_clients_s'])})" if floor else "–", ratio(shares["floor"]),
                      target, mark))
    table(add, ["function", "first event", "AWS calls (HTTP calls)", "import", "import + first event",
                "import / boto3", "total / boto3", "floor (boto3 + clients)", "total / floor", "target", "verdict"],
          lines)
    add(f"Files written into the read-only function directories during all runs: {written}.")
    add("")


def _package(add: Any, section: Any, verdicts: Verdicts) -> None:
    add("## 2. Deployment artifact")
    add("")
    if section is None:
        add("Skipped (`--skip-package`).")
        add("")
        return
    if phase_error(section) or section.get("returncode"):
        add(f"`serverless package` failed: {phase_error(section) or ''}")
        add(f"```\n{section.get('output_tail', '')}\n```")
        add("")
        verdicts.add("2. zips", "not packaged", "", None)
        return
    retried = " (retried once: `.serverless/` is shared with other packagings)" if len(section.get("attempts", [])) > 1 else ""
    add(f"`{section['command']}`: **{section['seconds']:.1f} s**{retried}.")
    add("")
    rows = []
    for item in section["zips"]:
        met = item["bytes"] <= TARGETS["zip_bytes"] and not item["forbidden"] and item.get("bytecode", 0) > 0
        mark = verdicts.add(f"2. `{item['name']}` with its bytecode, nothing forbidden", mib(item["bytes"]),
                            "<= 1.00 MiB", met)
        rows.append((f"`{item['name']}`", f"{item['bytes']:,}", mib(item["bytes"]), mib(item["uncompressed"]),
                     item["files"], item.get("bytecode", 0), ", ".join(item["forbidden"]) or "none", mark))
    table(add, ["zip", "bytes", "size", "uncompressed", "files", "bytecode (`.pyc`)",
                "forbidden (tests, local, node_modules, boto3, botocore)", "<= 1 MiB"], rows)
    same = "every zip holds the same files outside `functions/`" if section.get("same_requirements") else \
        "the zips differ outside `functions/` too"
    add(f"The largest top-level entries of `{section['sample_zip']}` (the largest zip; {same}):")
    add("")
    table(add, ["top-level package", "uncompressed", "compressed", "files"],
          [(f"`{e['name']}`", f"{e['uncompressed']:,}", f"{e['compressed']:,}", e["files"])
           for e in section["largest_packages"]])


def _cost(add: Any, section: Any, verdicts: Verdicts, reminded: Any = None) -> None:
    if not measured(add, "## 3. Cost per execution", section, verdicts, "3. transitions"):
        return
    cost = section["cost"]
    transitions, invocations = cost["transitions"], cost["invocations"]
    mark = verdicts.add("3. billed state transitions per execution", str(transitions), f"<= {TARGETS['transitions']}",
                        transitions <= TARGETS["transitions"])
    add("One approved execution on the in-process local service after a warm-up (POST /start, the approve form's "
        f"POST, SUCCEEDED): status **{cost['status']}**, {cost['events']} history events. Billed transitions = "
        "history events whose type ends with `StateEntered`; every Lambda invocation (state machine and API "
        "Gateway) is counted and timed at the engine's one invoke entry.")
    add("")
    facts = [("state transitions", f"**{transitions}** ({' → '.join(cost['states_entered'])})", mark)]
    if isinstance(reminded, dict) and "cost" in reminded:
        other = reminded["cost"]
        facts.append(("with reminders (every 1 s, approved after the second)",
                      f"**{other['transitions']}** ({' → '.join(other['states_entered'])})", other["status"]))
    else:
        facts.append(("with reminders", f"not measured ({(reminded or {}).get('error', 'no result')})", ""))
    facts.append(("Lambda invocations by the state machine", cost["lambda_scheduled_by_state_machine"], ""))
    facts.append(("Lambda invocations in all", len(invocations), ""))
    facts.append(("history event types", ", ".join(f"{k} {v}" for k, v in cost["event_types"].items()), ""))
    table(add, ["", "figure", "verdict"], facts)
    billed_seconds = sum(math.ceil(item["seconds"] * 1000) for item in invocations) / 1000
    quantities = [transitions * 1000, len(invocations) * 1000, billed_seconds * 1000 * LAMBDA_MEMORY_GB]
    costs = [quantity * price for quantity, (price, _) in zip(quantities, PRICES.values())]
    table(add, ["per 1,000 executions", "quantity", "price", "cost"],
          [(name, f"{quantity:,.0f}", text, f"${value:.4f}")
           for (name, (_, text)), quantity, value in zip(PRICES.items(), quantities, costs)]
          + [("**total**", "", "", f"**${sum(costs):.4f}**")])
    add("Duration is an estimate from warm, in-process durations (each rounded up to 1 ms, nested as billed); cold "
        "starts, network latency and API Gateway, DynamoDB, SES, CloudWatch and X-Ray charges are not included.")
    add("")
    table(add, ["invocation", "source", "duration (warm, local)"],
          [(f"`{item['function']}`", item["source"], ms(item["seconds"])) for item in invocations])


def _speed(add: Any, section: Any, bare: Any, verdicts: Verdicts) -> None:
    if not measured(add, "## 4. Local engine speed", section, verdicts, "4. local speed"):
        return
    bare_ok = not phase_error(bare)
    add(f"`python -m local` in its own process, driven over HTTP: {section['runs']} sequential workflows after "
        f"{section['warmup']} warm-up. start → email: POST /start until a new `.eml` is in the outbox (listed every "
        "2 ms); approve → SUCCEEDED: the approve POST until GET /executions/{name} says SUCCEEDED (every 5 ms). "
        f"Ready {section['ready_seconds']:.1f} s after launch; the first workflow took "
        f"{ms(section['first']['start_to_email'])} to the email. Reference, bare moto (`python -m bench.bare`): the "
        "same definition on the same interpreter with trivial in-process lambdas and no HTTP, DynamoDB or email"
        + ("." if bare_ok else f": not measured ({phase_error(bare)})."))
    add("")
    rows = []
    for label, ours_key, bare_key in (("start → email", "start_to_email", "start_to_token"),
                                      ("approve → SUCCEEDED", "approve_to_succeeded", "approve_to_succeeded")):
        ours, theirs = section[ours_key], (bare[bare_key] if bare_ok else [])
        rows.append((label, ms(median(ours)), ms(percentile(ours, 95)), ms(median(theirs)), ms(percentile(theirs, 95)),
                     ratio(median(ours) / median(theirs) if theirs else math.nan)))
    table(add, ["latency", "ours p50", "ours p95", "bare p50", "bare p95", "ours / bare (p50)"], rows)
    p50 = median(section["start_to_email"])
    limit = f"<= {TARGETS['start_to_email'] * 1000:.0f} ms"
    facts = [("p50 start → email", ms(p50), verdicts.add("4. p50 start → email", ms(p50), limit,
                                                          p50 <= TARGETS["start_to_email"])),
             ("POST /start answered (p50)", ms(median(section["start_answer"])), ""),
             ("approve POST answered (p50)", ms(median(section["approve_answer"])), "")]
    trips = section.get("status_round_trip")
    if trips:
        facts += [("one status request, new connection (p50)", ms(median(trips["new_connection"])), ""),
                  ("one status request, keep-alive (p50)", ms(median(trips["keep_alive"])), "")]
    many = section.get("concurrent")
    if many:
        complete = not (many["not_succeeded"] or many["unfinished"] or many["no_email"] or many["approve_codes_not_200"])
        reference = (bare or {}).get("concurrent") if bare_ok else None
        share = many["wall"] / reference["wall"] if reference else math.nan
        limit = f"<= {TARGETS['concurrent_ratio']}x bare moto"
        met = None if math.isnan(share) else share <= TARGETS["concurrent_ratio"] and complete
        mark = verdicts.add(f"4. {many['count']} concurrent workflows end to end", f"{ratio(share)} ({many['wall']:.2f} s)",
                            limit, met)
        facts += [(f"{many['count']} concurrent workflows ({many['workers']} client threads), end to end",
                   f"{many['wall']:.2f} s" + ("" if complete else " (**incomplete: not a valid figure**)"), mark),
                  ("… all started / emailed / approved after",
                   f"{many['started']:.2f} / {many['all_emailed']:.2f} / {many['all_approved']:.2f} s", ""),
                  ("… without an email / approve not 200 / not SUCCEEDED",
                   f"{many['no_email']} / {many['approve_codes_not_200'] or 'none'} / {many['not_succeeded']}", "")]
        if reference:
            facts.append((f"bare moto, {reference['count']} concurrent", f"{reference['wall']:.2f} s", ""))
    table(add, ["", "figure", "verdict"], facts)
