"""BENCHMARKS.md from one run's results.

Each section is a heading, its method (fixed text) and tables: lists of rows rendered by
bench.common.table. A figure compared with a target goes through Report.target, which also lists it
under "Targets" at the top.
"""

from __future__ import annotations

import ast
import math
import time
from pathlib import Path
from typing import Any, Sequence

from bench.common import median, mib, ms, percentile, ratio, table

# Prices (us-east-1, on demand). Step Functions Standard bills state transitions; Lambda bills
# requests and GB-seconds (arm64 rate), duration rounded up to the next millisecond.
PRICES = [
    ("Step Functions Standard state transitions", 0.025 / 1000, "$0.025 per 1,000"),
    ("Lambda requests", 0.20 / 1_000_000, "$0.20 per 1M"),
    ("Lambda duration (estimate, GB-s at 256 MB)", 0.0000133334, "$0.0000133334 per GB-s (arm64)"),
]
LAMBDA_MEMORY_GB = 256 / 1024
TARGETS = {
    "pure_import": 0.3,  # validate, finalize: import from the zip, x `import boto3`
    "double_total": 0.6,  # double: import + first event, x `import boto3`
    "floor_ratio": 1.15,  # AWS-calling handlers: import + first event, x their floor
    "zip_bytes": 1024 * 1024,
    "transitions": 5,  # the workflow's, approved without reminders or escalation: no more than one approver cost
    "approval_transitions": 3,  # the approval machine's execution it starts, without follow-ups
    "start_to_email": 0.050,
    "concurrent_ratio": 0.5,  # 100 concurrent workflows, x bare moto
    "iam_ratio": 1.10,  # p50 start -> email, IAM check on / off
}
PURE = ("validate", "finalize")
PRICING = ("Duration is an estimate from warm, in-process durations (each rounded up to 1 ms, nested as billed); cold "
           "starts, network latency and API Gateway, DynamoDB, SES, CloudWatch and X-Ray charges are not included.")


def method(module: str, function: str | None = None) -> str:
    """How a part measures, as its module's (or function's) docstring says after the summary line."""
    tree = ast.parse((Path(__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    node = next(node for node in tree.body if getattr(node, "name", None) == function) if function else tree
    return (ast.get_docstring(node) or "").partition("\n\n")[2]


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.targets: list[tuple[str, str, str, str]] = []

    def text(self, *paragraphs: str) -> None:
        for paragraph in paragraphs:
            self.lines += [paragraph, ""]

    def table(self, headers: Sequence[str], rows: Any) -> None:
        self.lines += table(headers, rows)

    def target(self, name: str, figure: str, limit: str, met: bool | None) -> str:
        """Records a target's verdict (listed under Targets) and returns it for the section's own table."""
        verdict = "n/a" if met is None else "met" if met else "**missed**"
        self.targets.append((name, figure, limit, verdict))
        return verdict

    def section(self, title: str, results: Any, method: str, target: str) -> bool:
        """The heading and the method; False, saying so, if the part was not measured."""
        error = results.get("error") if isinstance(results, dict) else "not run"
        self.text(title, f"Not measured: {error}" if error else method)
        if error:
            self.target(target, "not measured", "", None)
        return not error


def build(results: dict[str, Any]) -> tuple[str, list[tuple[str, str, str, str]]]:
    body = Report()
    _cold_start(body, results.get("cold_start"))
    _package(body, results.get("package"))
    _cost(body, results.get("cost"), results.get("reminders"))
    _speed(body, results.get("speed"), results.get("bare"))
    _iam(body, results.get("iam"))
    head = Report()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(results["started"]))
    head.text("# Benchmarks", f"Written by `make bench` (`.venv/bin/python -m bench`, `--help` for its options) on "
              f"{started}, in {results['elapsed'] / 60:.1f} min; every figure comes from that one run. The machine is "
              "shared and noisy: figures are medians (or percentiles) of repeated runs, each next to a reference "
              "measured in the same run. Targets read met / **missed**; nothing fails on a missed target.")
    if results["quick"]:
        head.text("> **Quick run** (`--quick`): fewer repetitions than the documented minimums; do not quote these "
                  "figures.")
    head.text("## Machine")
    loads = [" ".join(f"{x:.2f}" for x in results[key]) for key in ("load_at_start", "load_at_end")]
    head.table(["", ""], [*results["machine"].items(), ("load average (1/5/15 min)", " → ".join(loads))])
    head.text("Lambda runs Python 3.12 on arm64: compare these figures with each other and their references, not with "
              "Lambda's absolute numbers.", "## Targets")
    head.table(["target", "figure", "limit", "verdict"], body.targets)
    return "\n".join(head.lines + body.lines).rstrip() + "\n", body.targets


def _cold_start(report: Report, section: Any) -> None:
    if not report.section("## 1. Cold start per handler, as Lambda runs it", section, method("coldstart"),
                          "1. cold start"):
        return
    boto3_s = next(row for row in section["rows"] if row["kind"] == "import")["total_s"]
    report.table(["", ""], [("Python", f"{section['python_version']} (`{section['python']}`)"),
                            ("interleaved runs per row", section["runs"]), ("`import boto3`", ms(boto3_s)),
                            ("files written into the read-only function directories", section["files_written"])])
    rows = []
    for row in (row for row in section["rows"] if row["kind"] == "handler"):
        floor = row["floor_s"]
        shares = {"import": row["import_s"] / boto3_s, "total": row["total_s"] / boto3_s,
                  "floor": row["total_s"] / floor if floor else math.nan}
        key, limit, against = _cold_start_target(row)
        measured = "import" if key == "import" else "total"
        mark = report.target(f"1. cold start `{row['name']}`", f"{shares[key]:.3f}x ({measured})",
                             f"<= {limit}x {against}", shares[key] <= limit) if key else ""
        http = [call[5:] for call in row["calls"] if call.startswith("http ")]
        rows.append((f"`{row['name']}`", f"{row['event']} → {', '.join(row['status'])}",
                     (", ".join(row["aws_calls"]) or "none") + (f" ({', '.join(http)})" if http else ""),
                     ms(row["import_s"]), ms(row["total_s"]), ratio(shares["import"]), ratio(shares["total"]),
                     f"{ms(floor)} ({ms(row['floor_clients_s'])})" if floor else "–", ratio(shares["floor"]),
                     f"{measured} <= {limit}x {against}" if key else "–", mark))
    report.table(["function", "first event", "AWS calls (HTTP calls)", "import", "import + first event",
                  "import / boto3", "total / boto3", "floor (boto3 + clients)", "total / floor", "target", "verdict"],
                 rows)


def _cold_start_target(row: dict[str, Any]) -> tuple[str | None, float, str]:
    """Which share of the row is held to which limit, against which reference."""
    if row["name"] in PURE:
        return "import", TARGETS["pure_import"], "boto3"
    if row["name"] == "double":
        return "total", TARGETS["double_total"], "boto3"
    return ("floor", TARGETS["floor_ratio"], "floor") if row["aws_calls"] else (None, math.nan, "")


def _package(report: Report, section: Any) -> None:
    if not report.section("## 2. Deployment artifact", section, method("package"), "2. zips"):
        return
    retried = " (retried once: `.serverless/` is shared with other packagings)" if len(section["attempts"]) > 1 else ""
    report.table(["", ""], [("packaging time", f"**{section['seconds']:.1f} s**{retried}")])
    rows = []
    for item in section["zips"]:
        met = item["bytes"] <= TARGETS["zip_bytes"] and not item["forbidden"] and item["bytecode"] > 0
        mark = report.target(f"2. `{item['name']}` with its bytecode, nothing forbidden", mib(item["bytes"]),
                             "<= 1.00 MiB", met)
        rows.append((f"`{item['name']}`", f"{item['bytes']:,}", mib(item["bytes"]), mib(item["uncompressed"]),
                     item["files"], item["bytecode"], ", ".join(item["forbidden"]) or "none", mark))
    report.table(["zip", "bytes", "size", "uncompressed", "files", "bytecode (`.pyc`)",
                  "forbidden (tests, local, node_modules, boto3, botocore)", "<= 1 MiB"], rows)


def _cost(report: Report, cost: Any, reminded: Any) -> None:
    if not report.section("## 3. Cost per execution", cost, method("inproc"), "3. transitions"):
        return
    transitions, invocations = len(cost["states_entered"]), cost["invocations"]
    workflow, approval = len(cost["workflow_states_entered"]), len(cost["approval_states_entered"])
    mark = report.target("3. billed state transitions of the workflow", str(workflow), f"<= {TARGETS['transitions']}",
                         workflow <= TARGETS["transitions"])
    approval_mark = report.target("3. billed state transitions of its approval", str(approval),
                                  f"<= {TARGETS['approval_transitions']}", approval <= TARGETS["approval_transitions"])
    with_reminders = (f"**{len(reminded['states_entered'])}** ({' → '.join(reminded['states_entered'])})"
                      if "states_entered" in (reminded or {}) else f"not measured ({(reminded or {}).get('error')})")
    report.table(["", "figure", "verdict"], [
        ("state transitions, both machines", f"**{transitions}**", ""),
        ("the workflow's", f"**{workflow}** ({' → '.join(cost['workflow_states_entered'])})", mark),
        ("its approval's (the approval machine)", f"**{approval}** ({' → '.join(cost['approval_states_entered'])})",
         approval_mark),
        ("with reminders (every 1 s, approved after the second)", with_reminders, ""),
        ("Lambda invocations by the state machine", cost["lambda_scheduled_by_state_machine"], ""),
        ("Lambda invocations in all", len(invocations), ""),
        ("history events", f"{cost['events']}: " + ", ".join(f"{k} {v}" for k, v in cost["event_types"].items()), ""),
    ])
    billed_seconds = sum(math.ceil(item["seconds"] * 1000) for item in invocations) / 1000
    quantities = [transitions * 1000, len(invocations) * 1000, billed_seconds * 1000 * LAMBDA_MEMORY_GB]
    costs = [quantity * price for quantity, (_, price, _) in zip(quantities, PRICES)]
    report.table(["per 1,000 executions", "quantity", "price", "cost"],
                 [(name, f"{quantity:,.0f}", text, f"${value:.4f}")
                  for (name, _, text), quantity, value in zip(PRICES, quantities, costs)]
                 + [("**total**", "", "", f"**${sum(costs):.4f}**")])
    report.text(PRICING)
    report.table(["invocation", "source", "duration (warm, local)"],
                 [(f"`{item['function']}`", item["source"], ms(item["seconds"])) for item in invocations])


def _speed(report: Report, section: Any, bare: Any) -> None:
    if not report.section("## 4. Local engine speed", section, method("latency"), "4. local speed"):
        return
    bare_error = bare.get("error") if isinstance(bare, dict) else "not run"
    report.text(method("bare"))
    report.table(["", ""], [("sequential workflows (after warm-up)", f"{section['runs']} ({section['warmup']})"),
                            ("ready after launch", f"{section['ready_seconds']:.1f} s"),
                            ("first workflow, start → email", ms((section["first"] or {}).get("start_to_email"))),
                            ("bare moto", f"not measured ({bare_error})" if bare_error else "measured")])
    rows = []
    for label, ours_key, bare_key in (("start → email", "start_to_email", "start_to_token"),
                                      ("approve → SUCCEEDED", "approve_to_succeeded", "approve_to_succeeded")):
        ours, theirs = section[ours_key], ([] if bare_error else bare[bare_key])
        share = median(ours) / median(theirs) if theirs else math.nan
        rows.append((label, *_p50_p95(ours), *_p50_p95(theirs), ratio(share)))
    report.table(["latency", "ours p50", "ours p95", "bare p50", "bare p95", "ours / bare (p50)"], rows)
    p50 = median(section["start_to_email"])
    facts = [("p50 start → email", ms(p50), report.target("4. p50 start → email", ms(p50), "<= 50 ms",
                                                          p50 <= TARGETS["start_to_email"])),
             ("POST /start answered (p50)", ms(median(section["start_answer"])), ""),
             ("approve POST answered (p50)", ms(median(section["approve_answer"])), "")]
    many = section["concurrent"]
    if many:
        complete = not any(many[key] for key in ("not_succeeded", "unfinished", "no_email", "approve_codes_not_200"))
        reference = None if bare_error else bare.get("concurrent")
        share = many["wall"] / reference["wall"] if reference else math.nan
        mark = report.target(f"4. {many['count']} concurrent workflows end to end",
                             f"{ratio(share)} ({many['wall']:.2f} s)", f"<= {TARGETS['concurrent_ratio']}x bare moto",
                             None if math.isnan(share) else share <= TARGETS["concurrent_ratio"] and complete)
        facts += [(f"{many['count']} concurrent workflows ({many['workers']} client threads), end to end",
                   f"{many['wall']:.2f} s" + ("" if complete else " (**incomplete: not a valid figure**)"), mark),
                  ("… all started / emailed / approved after",
                   f"{many['started']:.2f} / {many['all_emailed']:.2f} / {many['all_approved']:.2f} s", ""),
                  ("… without an email / approve not 200 / not SUCCEEDED",
                   f"{many['no_email']} / {many['approve_codes_not_200'] or 'none'} / {many['not_succeeded']}", "")]
        if reference:
            facts.append((f"bare moto, {reference['count']} concurrent", f"{reference['wall']:.2f} s", ""))
    report.table(["", "figure", "verdict"], facts)


def _iam(report: Report, section: Any) -> None:
    if not report.section("## 4. Local IAM check: its cost, and warm `make local`", section, method("latency", "iam"),
                          "4. IAM check"):
        return
    overhead = median(section["on"]) / median(section["off"])
    limit = f"<= {TARGETS['iam_ratio']:.2f}x"
    mark = report.target("4. IAM check on / off, p50 start → email", ratio(overhead), limit,
                         overhead <= TARGETS["iam_ratio"])
    report.table(["", ""], [("sequential workflows each (in alternating blocks of)",
                             f"{section['runs']} ({section['block']})"),
                            ("warm ready time", ", ".join(f"{seconds:.1f} s" for seconds in section["ready_seconds"]))])
    report.table(["start → email", "p50", "p95", "ratio (p50)", "target", "verdict"],
                 [("IAM check off", *_p50_p95(section["off"]), "–", "", ""),
                  ("IAM check on", *_p50_p95(section["on"]), ratio(overhead), limit, mark)])


def _p50_p95(values: list[float]) -> tuple[str, str]:
    return ms(median(values)), ms(percentile(values, 95))
