"""BENCHMARKS.md from one run's results, and the list of target verdicts printed at the end."""

from __future__ import annotations

import math
import time
from typing import Any

from bench import console, iam
from bench.common import measured, median, mib, ms, percentile, phase_error, ratio, verdict

# Prices (us-east-1, on demand). Step Functions Standard bills state transitions; Lambda bills
# requests and GB-seconds (arm64 rate), duration rounded up to the next millisecond.
PRICE_PER_TRANSITION = 0.025 / 1000
PRICE_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_PER_GB_SECOND_ARM = 0.0000133334
LAMBDA_MEMORY_GB = 256 / 1024

TARGETS = {
    "pure_import": 0.3,  # validate, finalize: import from the zip, x `import boto3`
    "double_total": 0.6,  # double: import + first event, x `import boto3`
    "floor_ratio": 1.15,  # AWS-calling handlers: import + first event, x their floor
    "zip_bytes": 1024 * 1024,
    "transitions": 5,  # an approved execution without reminders or escalation: no more than one approver cost
    "start_to_email": 0.050,
    "concurrent_ratio": 0.5,  # 100 concurrent workflows, x bare moto
    "suite_seconds": 120,
}
PURE = ("validate", "finalize")


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
    machine = results["machine"]
    add("# Benchmarks")
    add("")
    add(f"Written by `make bench` (`.venv/bin/python -m bench`) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(results['started']))}; "
        f"the whole run took {results['elapsed'] / 60:.1f} min. Every figure below comes from that one run. The machine "
        "is shared and noisy, so figures are medians (or percentiles) of repeated runs, and each one is compared "
        "with a reference measured in the same run. Targets are shown as met / **missed**; this is a tool, "
        "nothing fails on a missed target.")
    if args.quick:
        add("")
        add("> **Quick run** (`--quick`): fewer repetitions than the documented minimums; do not quote these figures.")
    add("")
    _commands(add, args)
    _machine(add, machine, results)
    body: list[str] = []
    _cold_start(body.append, results.get("cold_start"), verdicts)
    _package(body.append, results.get("package"), verdicts)
    _cost(body.append, results.get("inproc"), verdicts, results.get("reminders"))
    _speed(body.append, results.get("latency"), results.get("bare"), results.get("inproc"), verdicts)
    console.section(body.append, results.get("console"), verdicts)
    iam.section(body.append, results.get("iam"), verdicts)
    _suite(body.append, results.get("suite"), verdicts)
    _profile(body.append, results.get("inproc"))
    add("## Targets")
    add("")
    add("| target | figure | limit | verdict |")
    add("|---|---|---|---|")
    for target, figure, limit, met in verdicts.rows:
        add(f"| {target} | {figure} | {limit} | {verdict(met)} |")
    add("")
    out.extend(body)
    return "\n".join(out).rstrip() + "\n", verdicts


def _commands(add: Any, args: Any) -> None:
    add("## Commands")
    add("")
    add("```sh")
    add("make bench                          # = .venv/bin/python -m bench (writes BENCHMARKS.md)")
    add(".venv/bin/python -m bench --skip-tests   # everything but the test-suite timing")
    add(".venv/bin/python -m bench --skip-package # no `serverless package`")
    add(".venv/bin/python -m bench --quick        # a fast smoke run with few repetitions")
    add(".venv/bin/python -m bench --help         # repetitions, output path, raw JSON")
    add("```")
    add("")
    add("What each part runs:")
    add("")
    add("| part | command / method |")
    add("|---|---|")
    add(f"| 1. cold start | each zip of part 2 unzipped read-only; `python3.12 -S -c <bench/coldstart.py CHILD> <path> handler "
        f"<module> <attr>` per handler, {args.cold_runs} interleaved rounds; references `... import boto3` and each "
        "handler's floor (`... floor <its clients and calls>`) |")
    add("| 2. artifact | `SLS_AWS_REQUEST_MAX_RETRIES=0 npx serverless package --stage dev` without any `AWS_*` variable |")
    add("| 3. cost | `.venv/bin/python -m bench.inproc` (LocalEngine + HTTP front in one process, GetExecutionHistory) |")
    add(f"| 4. speed | `python -m local` via `tests.workflow.conftest.LocalService`, {args.runs} sequential runs "
        f"(+{args.warmup} warm-up), {args.concurrent} concurrent; reference `.venv/bin/python -m bench.bare` |")
    add("| 5. tests | `.venv/bin/python -m pytest -q -p no:cacheprovider` |")
    add("| profile | `.venv/bin/python -m bench.inproc`: every thread's CPU clock and stack sampled on the start -> email path |")
    add("")


def _machine(add: Any, machine: dict[str, Any], results: dict[str, Any]) -> None:
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {machine.get('cpu')} |")
    add(f"| cores | {machine.get('cores')} ({machine.get('usable_cores')} usable by this process) |")
    add(f"| memory | {machine.get('memory')} |")
    add(f"| OS | {machine.get('os')} |")
    add(f"| Python (venv) | {machine.get('implementation', '')} {machine.get('python')} |")
    add(f"| moto | {machine.get('moto')} |")
    add(f"| boto3 / botocore | {machine.get('boto3')} / {machine.get('botocore')} |")
    add(f"| Powertools / requests | {machine.get('aws-lambda-powertools')} / {machine.get('requests')} |")
    add(f"| Node / Serverless | {machine.get('node')} / {machine.get('serverless')} |")
    load_start = machine.get("load_at_start") or ()
    load_end = results.get("load_at_end") or ()
    add(f"| load average (1/5/15 min) | at start {' '.join(f'{x:.2f}' for x in load_start)}; "
        f"at end {' '.join(f'{x:.2f}' for x in load_end)} |")
    add("")
    add("Lambda runs Python 3.12 on arm64 (Graviton); these figures are from the machine above, so compare "
        "them with each other and with their references, not with Lambda's absolute numbers.")
    add("")


# -- 1 -------------------------------------------------------------------------------------------
def _cold_start(add: Any, section: Any, verdicts: Verdicts) -> None:
    if not measured(add, "## 1. Cold start per handler, as Lambda runs it", section, verdicts, "1. cold start"):
        return
    rows = section["rows"]
    reference = next(row for row in rows if row["kind"] == "import")
    boto3_s = reference["total_s"]
    add(f"Each function's zip from `serverless package` (part 2, bytecode included) is unzipped into a directory "
        f"of its own, made read-only, and imported by **Python {section['python_version']}** (`{section['python']}`) "
        "with `-S`, `PYTHONDONTWRITEBYTECODE=1` and a Lambda-like environment (`LAMBDA_TASK_ROOT`, `_X_AMZN_TRACE_ID`, "
        "`AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_EXECUTION_ENV`, fake credentials, "
        "the function's serverless.yml variables): `sys.path` = the unzipped zip, then a runtime directory holding "
        "what the Lambda runtime provides besides the standard library (boto3, botocore, s3transfer, jmespath, "
        "dateutil, six, urllib3) with bytecode compiled by the same interpreter, as the runtime has it. A fresh "
        "interpreter per run times itself with `time.perf_counter` (start-up excluded): the import, then one "
        f"real-shaped first event. Median of {section['runs']} runs per row, all rows interleaved round by round. "
        "AWS calls go through boto3 to a local stand-in for the AWS endpoints (`AWS_ENDPOINT_URL`, canned "
        "DynamoDB / Step Functions / SES replies); the handlers' HTTP calls go to the same stand-in, which "
        "records every call.")
    add("")
    add(f"References from the same interpreter, runtime directory and rounds: **`import boto3` = {ms(boto3_s)}** "
        f"(runs: {', '.join(f'{value * 1000:.0f}' for value in reference['total_all_s'])} ms), and for each "
        "handler that calls AWS its **floor**: `import boto3`, the clients the handler created and the same calls "
        "it made (as the stand-in recorded them), in a script that does nothing else. The floor column also shows, "
        "in brackets, `import boto3` plus those clients alone.")
    add("")
    add("| function | first event | AWS calls (HTTP calls) | import | import + first event | import / boto3 | "
        "total / boto3 | floor (boto3 + clients) | total / floor | target | verdict |")
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    written = 0
    for row in rows:
        if row["kind"] != "handler":
            continue
        written += row["files_written"]
        http = [call[5:] for call in row["calls"] if call.startswith("http ")]
        calls = ", ".join(row["aws_calls"]) or "none"
        if http:
            calls += f" ({', '.join(http)})"
        import_share = row["import_s"] / boto3_s
        total_share = row["total_s"] / boto3_s
        floor = row.get("floor_s")
        floor_share = row["total_s"] / floor if floor else math.nan
        if row["name"] in PURE:
            limit, met, figure = TARGETS["pure_import"], import_share <= TARGETS["pure_import"], import_share
            target = f"import <= {limit}x boto3"
        elif row["name"] == "double":
            limit, met, figure = TARGETS["double_total"], total_share <= TARGETS["double_total"], total_share
            target = f"total <= {limit}x boto3"
        elif row["aws_calls"]:
            limit, met, figure = TARGETS["floor_ratio"], floor_share <= TARGETS["floor_ratio"], floor_share
            target = f"total <= {limit}x floor"
        else:
            met, figure, target = None, total_share, "–"
        mark = verdicts.add(f"1. cold start `{row['name']}`", f"{figure:.3f}x ({target.split(' <=')[0]})",
                            "<= " + target.split("<= ")[-1], met)
        floor_text = f"{ms(floor)} ({ms(row['floor_clients_s'])})" if floor else "–"
        add(f"| `{row['name']}` | {row['event']} → {', '.join(row['status'])} | {calls} | {ms(row['import_s'])} | "
            f"{ms(row['total_s'])} | {ratio(import_share)} | {ratio(total_share)} | {floor_text} | {ratio(floor_share)} | "
            f"{target} | {mark} |")
    add("")
    add(f"Files written into the read-only function directories during all runs: {written}.")
    for profile in section.get("import_profiles", []):
        add("")
        add(f"What `import {profile['module']}` loads from its zip (`python3.12 -X importtime`, one run, depth 1-3, "
            f"by cumulative time): {profile['modules']} modules, {profile['total_us'] / 1000:.0f} ms in all.")
        add("")
        add("| module | depth | cumulative | self |")
        add("|---|---|---|---|")
        for entry in profile["heaviest"]:
            add(f"| `{entry['name']}` | {entry['depth']} | {entry['cumulative_us'] / 1000:.1f} ms | "
                f"{entry['self_us'] / 1000:.1f} ms |")
    add("")


# -- 2 -------------------------------------------------------------------------------------------
def _package(add: Any, section: Any, verdicts: Verdicts) -> None:
    add("## 2. Deployment artifact")
    add("")
    if section is None:
        add("Skipped (`--skip-package`).")
        add("")
        return
    if phase_error(section) or section.get("returncode"):
        add(f"`serverless package` failed: {phase_error(section) or ''}")
        add("```")
        add(section.get("output_tail", ""))
        add("```")
        add("")
        verdicts.add("2. zips", "not packaged", "", None)
        return
    retried = (f" The first attempt failed ({section['attempts'][0]:.1f} s; `.serverless/` is shared with concurrent "
               "`serverless package` runs, e.g. the deploy tests) and was retried once." if len(section.get("attempts", [])) > 1 else "")
    add(f"`{section['command']}`: **{section['seconds']:.1f} s** (one run; serverless-python-requirements "
        f"reuses its cache of the requirements).{retried}")
    add("")
    add(f"| zip | bytes | size | uncompressed | files | of which bytecode (`.pyc`) | forbidden top-level dirs ({', '.join('`' + n + '/`' for n in ('tests', 'local', 'node_modules', 'boto3', 'botocore'))}) | <= 1 MiB |")
    add("|---|---|---|---|---|---|---|---|")
    limit = TARGETS["zip_bytes"]
    for item in section["zips"]:
        met = item["bytes"] <= limit and not item["forbidden"]
        mark = verdicts.add(f"2. `{item['name']}` with its bytecode, nothing forbidden", mib(item["bytes"]),
                            "<= 1.00 MiB", met and item.get("bytecode", 0) > 0)
        add(f"| `{item['name']}` | {item['bytes']:,} | {mib(item['bytes'])} | {mib(item['uncompressed'])} | "
            f"{item['files']} | {item.get('bytecode', 0)} | {', '.join(item['forbidden']) or 'none'} | {mark} |")
    add("")
    same = ("every zip holds the same files outside `functions/`" if section.get("same_requirements")
            else "the zips differ outside `functions/` too")
    add(f"The 10 largest top-level entries of `{section['sample_zip']}` (the largest zip; {same}), uncompressed:")
    add("")
    add("| top-level package | uncompressed | compressed in zip | files |")
    add("|---|---|---|---|")
    for entry in section["largest_packages"]:
        add(f"| `{entry['name']}` | {entry['uncompressed']:,} | {entry['compressed']:,} | {entry['files']} |")
    if section.get("largest_inside_top"):
        top = section["largest_packages"][0]["name"]
        add("")
        add(f"Inside `{top}/` (uncompressed):")
        add("")
        add("| sub-package | uncompressed |")
        add("|---|---|")
        for entry in section["largest_inside_top"]:
            add(f"| `{entry['name']}/` | {entry['uncompressed']:,} |")
    add("")


# -- 3 -------------------------------------------------------------------------------------------
def _cost(add: Any, section: Any, verdicts: Verdicts, reminded: Any = None) -> None:
    if not measured(add, "## 3. Cost per execution", section, verdicts, "3. transitions"):
        return
    cost = section["cost"]
    add("One happy-path execution on the in-process local engine (`python -m bench.inproc`: LocalEngine + the HTTP "
        "front in one process, after one warm-up execution): POST /start, the approve form's POST, wait for "
        f"SUCCEEDED (status read in-process, so no status polls are invoked). Status: **{cost['status']}**, "
        f"{cost['events']} history events.")
    add("")
    add("Counting rule: **billed state transitions = history events whose type ends with `StateEntered`** (each "
        "state entered once per attempt; Standard workflows bill every state transition, retries included). "
        "Lambda invocations by the state machine = `LambdaFunctionScheduled` + `TaskScheduled` with "
        "`resourceType` lambda; every invocation (state machine and API Gateway) was also counted and timed at "
        "the engine's single invoke entry.")
    add("")
    transitions = cost["transitions"]
    mark = verdicts.add("3. billed state transitions per execution", str(transitions), f"<= {TARGETS['transitions']}",
                        transitions <= TARGETS["transitions"])
    add(f"- state transitions: **{transitions}** ({' → '.join(cost['states_entered'])}) — target <= "
        f"{TARGETS['transitions']}: {mark}")
    if isinstance(reminded, dict) and "cost" in reminded:
        with_reminders = reminded["cost"]
        add(f"- with reminders (`REMINDER_INTERVAL_SECONDS=1`, approved after the second reminder; status "
            f"{with_reminders['status']}): **{with_reminders['transitions']}** "
            f"({' → '.join(with_reminders['states_entered'])}): each round of follow-ups adds FollowUp and "
            "AwaitApproval, 2 transitions")
    else:
        add(f"- with reminders: not measured ({(reminded or {}).get('error', 'no result')})")
    add(f"- Lambda invocations by the state machine (history): {cost['lambda_scheduled_by_state_machine']}")
    invocations = cost["invocations"]
    by_source: dict[str, list[dict[str, Any]]] = {}
    for invocation in invocations:
        by_source.setdefault(invocation["source"], []).append(invocation)
    add(f"- Lambda invocations in all: **{len(invocations)}** "
        + ", ".join(f"{source}: {len(items)} ({', '.join(item['function'] for item in items)})"
                    for source, items in sorted(by_source.items())))
    add("- history event types: " + ", ".join(f"{name} {count}" for name, count in cost["event_types"].items()))
    add("")
    billed_ms = sum(math.ceil(item["seconds"] * 1000) for item in invocations)
    per_thousand_transitions = transitions * PRICE_PER_TRANSITION * 1000
    per_thousand_requests = len(invocations) * PRICE_PER_LAMBDA_REQUEST * 1000
    per_thousand_duration = billed_ms / 1000 * LAMBDA_MEMORY_GB * PRICE_PER_GB_SECOND_ARM * 1000
    add("| per 1,000 executions | quantity | price | cost |")
    add("|---|---|---|---|")
    add(f"| Step Functions Standard state transitions | {transitions * 1000:,} | $0.025 per 1,000 | "
        f"${per_thousand_transitions:.4f} |")
    add(f"| Lambda requests | {len(invocations) * 1000:,} | $0.20 per 1M | ${per_thousand_requests:.4f} |")
    add(f"| Lambda duration (estimate) | {billed_ms * 1000 / 1000:,.0f} s at 256 MB | $0.0000133334 per GB-s (arm64) | "
        f"${per_thousand_duration:.4f} |")
    add(f"| **total** | | | **${per_thousand_transitions + per_thousand_requests + per_thousand_duration:.4f}** |")
    add("")
    add("Duration is an estimate: the warm, in-process handler durations measured here (each rounded up to 1 ms, "
        "nested as billed: Calculate waits for its POST to /double, which waits for its POST to /callbacks), not "
        "Lambda's; cold starts, real network latency and API Gateway, DynamoDB, SES, CloudWatch and X-Ray charges "
        "are not included. A person who opens the approve link before pressing the button adds one API Gateway "
        "request and one Lambda invocation (the GET page).")
    add("")
    add("| invocation | source | duration (warm, local) |")
    add("|---|---|---|")
    for item in invocations:
        add(f"| `{item['function']}` | {item['source']} | {ms(item['seconds'])} |")
    add("")


# -- 4 -------------------------------------------------------------------------------------------
def _speed(add: Any, section: Any, bare: Any, inproc: Any, verdicts: Verdicts) -> None:
    if not measured(add, "## 4. Local engine speed", section, verdicts, "4. local speed"):
        return
    add(f"`python -m local` in its own process (the tests' `LocalService`), driven over HTTP from the bench "
        f"process: {section['runs']} sequential workflows after {section['warmup']} warm-up. start → email: POST "
        f"/start (new connection) until a new `.eml` is in the outbox, listed every 2 ms. approve → SUCCEEDED: "
        f"the approve form's POST until GET /executions/{{name}} says SUCCEEDED, polled every 5 ms (a new connection "
        f"per request, as curl makes). "
        f"Local mode was ready {section['ready_seconds']:.1f} s after launch; its first workflow (handlers "
        f"imported on first use) took {ms(section['first']['start_to_email'])} to the email and "
        f"{ms(section['first']['approve_to_succeeded'])} from approve to SUCCEEDED.")
    add("")
    bare_ok = not phase_error(bare)
    if bare_ok:
        add(f"Reference, \"bare moto\" (`python -m bench.bare`, {bare['runs']} runs after warm-up): the same "
            "definition (serverless.yml's, Fn::GetAtt → moto Lambda ARNs) on the same moto interpreter with the "
            "same `_invoke_lambda` hook idea, but trivial in-process lambdas and no HTTP, DynamoDB, SES or email: "
            "Calculate's token is answered at once by a partner thread; start → Approval's token on a queue; "
            "SendTaskSuccess → DescribeExecution SUCCEEDED polled every 5 ms.")
    else:
        add(f"Reference \"bare moto\" not measured: {phase_error(bare)}")
    add("")
    add("| latency | ours p50 | ours p95 | bare p50 | bare p95 | ours / bare (p50) |")
    add("|---|---|---|---|---|---|")
    pairs = [("start → email", "start_to_email", "start_to_token"),
             ("approve → SUCCEEDED", "approve_to_succeeded", "approve_to_succeeded")]
    for label, ours_key, bare_key in pairs:
        ours = section[ours_key]
        theirs = bare[bare_key] if bare_ok else []
        overhead = median(ours) / median(theirs) if theirs else math.nan
        add(f"| {label} | {ms(median(ours))} | {ms(percentile(ours, 95))} | {ms(median(theirs))} | "
            f"{ms(percentile(theirs, 95))} | {ratio(overhead)} |")
    add("")
    p50 = median(section["start_to_email"])
    limit = f"<= {TARGETS['start_to_email'] * 1000:.0f} ms"
    mark = verdicts.add("4. p50 start → email", ms(p50), limit, p50 <= TARGETS["start_to_email"])
    trips = section.get("status_round_trip")
    if trips:
        add(f"- one status request (GET /executions/{{name}} of a finished execution, p50 of "
            f"{len(trips['new_connection'])}): {ms(median(trips['new_connection']))} on a new connection, "
            f"**{ms(median(trips['keep_alive']))} on a keep-alive connection** (what a browser uses); each poll runs "
            "the `executions` handler in the server process, next to the execution being waited for.")
    add(f"- p50 start → email: **{ms(p50)}** (target {limit}: {mark}); POST /start itself answered in "
        f"{ms(median(section['start_answer']))} (p50), the approve POST in {ms(median(section['approve_answer']))}.")
    many = section.get("concurrent")
    if many:
        complete = not (many["not_succeeded"] or many["unfinished"] or many["no_email"] or many["approve_codes_not_200"])
        reference = (bare or {}).get("concurrent") if bare_ok else None
        share = many["wall"] / reference["wall"] if reference else math.nan
        limit = f"<= {TARGETS['concurrent_ratio']}x bare moto"
        met = None if math.isnan(share) else share <= TARGETS["concurrent_ratio"] and complete
        mark = verdicts.add(f"4. {many['count']} concurrent workflows end to end", f"{ratio(share)} ({many['wall']:.2f} s)",
                            limit, met)
        add(f"- {many['count']} concurrent workflows end to end ({many['workers']} client threads; start all, approve "
            f"all, wait all SUCCEEDED): **{many['wall']:.2f} s**. All started after "
            f"{many['started']:.2f} s, all {many['count']} emails after {many['all_emailed']:.2f} s, all approved after "
            f"{many['all_approved']:.2f} s; without an email: {many['no_email']}, approve answers other than 200: "
            f"{many['approve_codes_not_200'] or 'none'}, not SUCCEEDED: {many['not_succeeded']}"
            + ("" if complete else " (**incomplete: the wall time is not a valid figure**)") + ". Completion is read from local mode's console (`[name] SUCCEEDED`) so "
            "that 100 pollers do not load the server; each status is then confirmed with GET /executions.")
        if reference:
            add(f"- bare moto, {reference['count']} concurrent the same way: {reference['wall']:.2f} s "
                f"(all started after {reference['started']:.2f} s) — **ours / bare: {ratio(share)}** "
                f"(target {limit}: {mark}).")
        if bare_ok and bare.get("race_retries"):
            add(f"- bare moto had to retry SendTaskSuccess {bare['race_retries']} time(s): moto 5.2.5 walks every "
                "RUNNING execution and raises AttributeError on one whose worker has just started "
                "(`exec_worker.env` is None).")
    if inproc and not phase_error(inproc):
        cpu = inproc.get("cpu") or {}
        parse = inproc.get("asl_parse") or {}
        if cpu.get("wall"):
            add(f"- In one process (`bench.inproc`, no profiler, {len(cpu['wall'])} runs): start → email "
                f"{ms(median(cpu['wall']))} wall for {ms(median(cpu['cpu']))} of CPU (all threads, p50): the path "
                "is CPU-bound, not waiting.")
        if cpu.get("approve_to_succeeded"):
            add(f"- In one process, approve POST → SUCCEEDED with the status read in-process (DescribeExecution "
                f"every 5 ms, no HTTP poll): {ms(median(cpu['approve_to_succeeded']))} p50 "
                f"(p95 {ms(percentile(cpu['approve_to_succeeded'], 95))}).")
        if parse.get("seconds"):
            add(f"- moto parses the definition ({parse['definition_bytes']:,} bytes of ASL, ANTLR) at every "
                f"StartExecution: {ms(median(parse['seconds']))} per execution (p50 of {parse['runs']}, unprofiled); "
                "bare moto pays it every time, local mode once per definition (local/hooks.py).")
    add("")


# -- 5 -------------------------------------------------------------------------------------------
def _suite(add: Any, section: Any, verdicts: Verdicts) -> None:
    add("## 5. Test suite")
    add("")
    limit = f"<= {TARGETS['suite_seconds']} s"
    if section is None:
        add("Skipped (`--skip-tests`).")
        verdicts.add("5. pytest wall time", "not measured", limit, None)
    elif phase_error(section):
        add(f"Not measured: {phase_error(section)}")
        verdicts.add("5. pytest wall time", "not measured", limit, None)
    else:
        met = section["seconds"] <= TARGETS["suite_seconds"] and section["returncode"] == 0
        mark = verdicts.add("5. pytest wall time", f"{section['seconds']:.1f} s", limit, met)
        add(f"`{section['command']}` (installation excluded: venv, npm packages and chromium already present): "
            f"**{section['seconds']:.1f} s** wall (target {limit}: {mark}), exit code {section['returncode']} — "
            f"{section['summary'] or 'no summary line'}.")
    add("")


# -- profile -------------------------------------------------------------------------------------
def _profile(add: Any, section: Any) -> None:
    add("## Profile: start → email")
    add("")
    if phase_error(section) or not section.get("profile") or not section["profile"].get("tables"):
        add(f"Not profiled: {phase_error(section)}")
        add("")
        return
    profile = section["profile"]
    add(f"`python -m bench.inproc`: {profile['runs']} warm start → email runs in one process, sampled every "
        f"{profile['interval'] * 1000:.0f} ms: each thread's CPU time since the previous sample (its own CPU clock) is "
        "charged to the function on top of its stack (self) and to every function on it (cumulative); waiting "
        "threads are charged nothing, nor is the thread that starts the workflows and polls the outbox; the GIL's "
        "switch interval is shortened meanwhile so that the sampler runs while threads compute. "
        f"{profile['total_cpu_seconds'] * 1000:.0f} ms of CPU sampled in all (threads that start and end between two "
        "samples are missed, so shares are what to read); the sampled runs took "
        f"{ms(median(profile['profiled_wall']))} (p50).")
    add("")
    add("<details><summary>Top 15 functions by cumulative and by own CPU time</summary>")
    add("")
    for key, title in (("cumulative", "cumulative"), ("tottime", "own (self)")):
        add(f"**{title}**")
        add("")
        add("```")
        add(profile["tables"].get(key, ""))
        add("```")
        add("")
    add("</details>")
    add("")
