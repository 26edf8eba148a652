"""BENCHMARKS.md from one run's results, and the list of target verdicts printed at the end."""

from __future__ import annotations

import math
import time
from typing import Any

from bench import console
from bench.common import median, mib, ms, percentile, ratio, verdict

# Prices (us-east-1, on demand). Step Functions Standard bills state transitions; Lambda bills
# requests and GB-seconds (arm64 rate), duration rounded up to the next millisecond.
PRICE_PER_TRANSITION = 0.025 / 1000
PRICE_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_PER_GB_SECOND_ARM = 0.0000133334
LAMBDA_MEMORY_GB = 256 / 1024

TARGETS = {
    "no_aws_ratio": 0.5,
    "any_ratio": 1.2,
    "zip_bytes": 1024 * 1024,
    "transitions": 6,
    "start_to_email": 0.100,
    "concurrent_wall": 5.0,
    "overhead": 1.3,
}


class Verdicts:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, bool | None]] = []

    def add(self, target: str, figure: str, limit: str, met: bool | None) -> str:
        self.rows.append((target, figure, limit, met))
        return verdict(met)


def _error(section: Any) -> str | None:
    return section.get("error") if isinstance(section, dict) else "not run"


def _measured(add: Any, title: str, section: Any, verdicts: Verdicts, target: str) -> bool:
    """Write the section heading; if the phase failed, say so (and record it) and return False."""
    add(title)
    add("")
    if not _error(section):
        return True
    add(f"Not measured: {_error(section)}")
    add("")
    verdicts.add(target, "not measured", "", None)
    return False


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
    _cost(body.append, results.get("inproc"), verdicts)
    _speed(body.append, results.get("latency"), results.get("bare"), results.get("inproc"), verdicts)
    console.section(body.append, results.get("console"), verdicts)
    _suite(body.append, results.get("suite"))
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
    add(f"| 1. cold start | `.venv/bin/python -c <bench/coldstart.py CHILD> <module> handler <attr>` per handler, "
        f"{args.cold_runs} interleaved rounds; reference `.venv/bin/python -c ... boto3 import` |")
    add("| 2. artifact | `SLS_AWS_REQUEST_MAX_RETRIES=0 npx serverless package --stage dev` without any `AWS_*` variable |")
    add("| 3. cost | `.venv/bin/python -m bench.inproc` (LocalEngine + HTTP front in one process, GetExecutionHistory) |")
    add(f"| 4. speed | `python -m local` via `tests.workflow.conftest.LocalService`, {args.runs} sequential runs "
        f"(+{args.warmup} warm-up), {args.concurrent} concurrent; reference `.venv/bin/python -m bench.bare` |")
    add("| 5. tests | `.venv/bin/python -m pytest -q -p no:cacheprovider` |")
    add("| profile | `.venv/bin/python -m bench.inproc`: cProfile of every thread on the start -> email path |")
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
    add(f"| Powertools / X-Ray SDK | {machine.get('aws-lambda-powertools')} / {machine.get('aws-xray-sdk')} |")
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
    if not _measured(add, "## 1. Cold start per handler", section, verdicts, "1. cold start"):
        return
    rows = section["rows"]
    reference = next(row for row in rows if row["kind"] == "import")
    floor = reference["total_s"]
    add(f"A fresh interpreter per run imports the handler module and handles one real-shaped event; the child "
        f"times itself with `time.perf_counter` from before the import to after the handler returns (interpreter "
        f"start-up excluded). Median of {section['runs']} runs per row, rows interleaved round by round. AWS calls "
        f"go through boto3 (as on Lambda) to a local stand-in for the AWS endpoints (`AWS_ENDPOINT_URL`) that "
        f"answers DynamoDB, Step Functions and SES with canned replies; the handlers' own HTTP calls go to the same "
        f"stand-in. No moto in the child, so boto3's import and client creation are paid by the handler that needs "
        f"them, as on Lambda. \"AWS calls\" is what the stand-in saw; a handler \"makes no AWS call\" when it saw "
        f"none. \"No AWS SDK\" is judged strictly: neither `boto3` nor `botocore` in `sys.modules` after the event "
        f"(a boto3-only check is the first half of the two SDK columns). Environment: `AWS_DEFAULT_REGION=us-east-1`, fake credentials, `POWERTOOLS_TRACE_DISABLED=true`, "
        f"`POWERTOOLS_METRICS_NAMESPACE=Bench`, `POWERTOOLS_SERVICE_NAME=bench`, plus the function's serverless.yml "
        f"environment.")
    add("")
    add(f"**Reference (boto3 floor): `import boto3` = {ms(floor)}** (median; runs: "
        f"{', '.join(f'{value * 1000:.0f}' for value in reference['total_all_s'])} ms).")
    add("")
    add("| function | first event | AWS calls (HTTP calls) | boto3 / botocore loaded after import | after event | "
        "import | import + first event | ratio to boto3 | target | verdict |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if row["kind"] != "handler":
            continue
        http = [call[5:] for call in row["calls"] if call.startswith("http ")]
        calls = ", ".join(row["aws_calls"]) or "none"
        if http:
            calls += f" ({', '.join(http)})"
        after_import = f"{_yes(row['after_import']['boto3'])} / {_yes(row['after_import']['botocore'])}"
        after_event = f"{_yes(row['after_event']['boto3'])} / {_yes(row['after_event']['botocore'])}"
        share = row["total_s"] / floor
        if row["makes_aws_call"]:
            limit = TARGETS["any_ratio"]
            met = share <= limit
            target = f"<= {limit}x"
        else:
            limit = TARGETS["no_aws_ratio"]
            no_sdk = not (row["after_event"]["boto3"] or row["after_event"]["botocore"])
            met = share <= limit and no_sdk
            target = f"no AWS SDK, <= {limit}x"
        status = ", ".join(row["status"])
        sdk = ("" if row["makes_aws_call"] else
               f"; after the event boto3 {_yes(row['after_event']['boto3'])}, botocore {_yes(row['after_event']['botocore'])}")
        mark = verdicts.add(f"1. cold start `{row['name']}`", f"{ratio(share)} ({ms(row['total_s'])}){sdk}", target, met)
        add(f"| `{row['name']}` | {row['event']} → {status} | {calls} | {after_import} | {after_event} | "
            f"{ms(row['import_s'])} | {ms(row['total_s'])} | {ratio(share)} | {target} | {mark} |")
    for row in rows:
        if row["kind"] == "client":
            add("")
            add(f"For information: `import boto3` + one `boto3.client(\"dynamodb\")` = {ms(row['total_s'])} "
                f"({ratio(row['total_s'] / floor)} of the floor): the least any handler that calls AWS pays on its "
                "first event, before its own imports.")
    for profile in section.get("import_profiles", []):
        if profile.get("error"):
            add("")
            add(f"`python -X importtime` of `{profile['module']}` failed: {profile['error']}")
            continue
        add("")
        add(f"What `import {profile['module']}` loads (`python -X importtime`, one run, cumulative, depth 1-3): "
            f"{profile['total_us'] / 1000:.0f} ms in all.")
        add("")
        add("| module | depth | cumulative | self |")
        add("|---|---|---|---|")
        for entry in profile["heaviest"]:
            add(f"| `{entry['name']}` | {entry['depth']} | {entry['cumulative_us'] / 1000:.1f} ms | "
                f"{entry['self_us'] / 1000:.1f} ms |")
        for sdk, chain in profile.get("chains", {}).items():
            add("")
            add(f"First import of `{sdk}`: " + " → ".join(f"`{name}`" for name in chain))
    add("")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# -- 2 -------------------------------------------------------------------------------------------
def _package(add: Any, section: Any, verdicts: Verdicts) -> None:
    add("## 2. Deployment artifact")
    add("")
    if section is None:
        add("Skipped (`--skip-package`).")
        add("")
        return
    if _error(section) or section.get("returncode"):
        add(f"`serverless package` failed: {_error(section) or ''}")
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
    add(f"| zip | bytes | size | uncompressed | files | forbidden top-level dirs ({', '.join('`' + n + '/`' for n in ('tests', 'local', 'node_modules', 'boto3', 'botocore'))}) | <= 1 MiB |")
    add("|---|---|---|---|---|---|---|")
    limit = TARGETS["zip_bytes"]
    for item in section["zips"]:
        met = item["bytes"] <= limit and not item["forbidden"]
        mark = verdicts.add(f"2. `{item['name']}` <= 1 MiB, nothing forbidden", mib(item["bytes"]), "1.00 MiB", met)
        add(f"| `{item['name']}` | {item['bytes']:,} | {mib(item['bytes'])} | {mib(item['uncompressed'])} | "
            f"{item['files']} | {', '.join(item['forbidden']) or 'none'} | {mark} |")
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
def _cost(add: Any, section: Any, verdicts: Verdicts) -> None:
    if not _measured(add, "## 3. Cost per execution", section, verdicts, "3. transitions"):
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
    if not _measured(add, "## 4. Local engine speed", section, verdicts, "4. local speed"):
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
    bare_ok = not _error(bare)
    if bare_ok:
        add(f"Reference, \"bare moto\" (`python -m bench.bare`, {bare['runs']} runs after warm-up): the same "
            "definition (serverless.yml's, Fn::GetAtt → moto Lambda ARNs) on the same moto interpreter with the "
            "same `_invoke_lambda` hook idea, but trivial in-process lambdas and no HTTP, DynamoDB, SES or email: "
            "Calculate's token is answered at once by a partner thread; start → Approval's token on a queue; "
            "SendTaskSuccess → DescribeExecution SUCCEEDED polled every 5 ms.")
    else:
        add(f"Reference \"bare moto\" not measured: {_error(bare)}")
    add("")
    add("| latency | ours p50 | ours p95 | bare p50 | bare p95 | overhead (p50 / bare p50) | target | verdict |")
    add("|---|---|---|---|---|---|---|---|")
    pairs = [("start → email", "start_to_email", "start_to_token"),
             ("approve → SUCCEEDED", "approve_to_succeeded", "approve_to_succeeded")]
    for label, ours_key, bare_key in pairs:
        ours = section[ours_key]
        theirs = bare[bare_key] if bare_ok else []
        overhead = median(ours) / median(theirs) if theirs else math.nan
        mark = verdicts.add(f"4. overhead {label}", ratio(overhead), f"<= {TARGETS['overhead']}x",
                            None if math.isnan(overhead) else overhead <= TARGETS["overhead"])
        add(f"| {label} | {ms(median(ours))} | {ms(percentile(ours, 95))} | {ms(median(theirs))} | "
            f"{ms(percentile(theirs, 95))} | {ratio(overhead)} | <= {TARGETS['overhead']}x | {mark} |")
    add("")
    p50 = median(section["start_to_email"])
    mark = verdicts.add("4. p50 start → email", ms(p50), "<= 100 ms", p50 <= TARGETS["start_to_email"])
    trips = section.get("status_round_trip")
    if trips:
        add(f"- one status request (GET /executions/{{name}} of a finished execution, p50 of "
            f"{len(trips['new_connection'])}): {ms(median(trips['new_connection']))} on a new connection, "
            f"**{ms(median(trips['keep_alive']))} on a keep-alive connection** (what a browser uses); each poll runs "
            "the `executions` handler in the server process, next to the execution being waited for.")
    add(f"- p50 start → email: **{ms(p50)}** (target <= 100 ms: {mark}); POST /start itself answered in "
        f"{ms(median(section['start_answer']))} (p50), the approve POST in {ms(median(section['approve_answer']))}.")
    many = section.get("concurrent")
    if many:
        complete = not (many["not_succeeded"] or many["unfinished"] or many["no_email"] or many["approve_codes_not_200"])
        met = many["wall"] <= TARGETS["concurrent_wall"] and complete
        mark = verdicts.add(f"4. {many['count']} concurrent workflows end to end", f"{many['wall']:.2f} s", "<= 5 s", met)
        add(f"- {many['count']} concurrent workflows end to end ({many['workers']} client threads; start all, approve "
            f"all, wait all SUCCEEDED): **{many['wall']:.2f} s** (target <= 5 s: {mark}). All started after "
            f"{many['started']:.2f} s, all {many['count']} emails after {many['all_emailed']:.2f} s, all approved after "
            f"{many['all_approved']:.2f} s; without an email: {many['no_email']}, approve answers other than 200: "
            f"{many['approve_codes_not_200'] or 'none'}, not SUCCEEDED: {many['not_succeeded']}"
            + ("" if complete else " (**incomplete: the wall time is not a valid figure**)") + ". Completion is read from local mode's console (`[name] SUCCEEDED`) so "
            "that 100 pollers do not load the server; each status is then confirmed with GET /executions.")
        if bare_ok and bare.get("concurrent"):
            reference = bare["concurrent"]
            add(f"- bare moto, {reference['count']} concurrent the same way: {reference['wall']:.2f} s "
                f"(all started after {reference['started']:.2f} s) — our ratio "
                f"{ratio(many['wall'] / reference['wall'])}.")
        if bare_ok and bare.get("race_retries"):
            add(f"- bare moto had to retry SendTaskSuccess {bare['race_retries']} time(s): moto 5.2.5 walks every "
                "RUNNING execution and raises AttributeError on one whose worker has just started "
                "(`exec_worker.env` is None).")
    if inproc and not _error(inproc):
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
                "bare moto pays it too.")
    add("")


# -- 5 -------------------------------------------------------------------------------------------
def _suite(add: Any, section: Any) -> None:
    add("## 5. Test suite")
    add("")
    if section is None:
        add("Skipped (`--skip-tests`).")
    elif _error(section):
        add(f"Not measured: {_error(section)}")
    else:
        add(f"`{section['command']}` (installation excluded: venv, npm packages and chromium already present): "
            f"**{section['seconds']:.1f} s** wall, exit code {section['returncode']} — {section['summary'] or 'no summary line'}.")
    add("")


# -- profile -------------------------------------------------------------------------------------
def _profile(add: Any, section: Any) -> None:
    add("## Profile: start → email")
    add("")
    if _error(section) or not section.get("profile"):
        add(f"Not profiled: {_error(section)}")
        add("")
        return
    profile = section["profile"]
    walls = profile["profiled_wall"]
    add(f"`python -m bench.inproc`: {profile['runs']} warm start → email runs with cProfile on every thread that "
        f"served them ({profile['threads_profiled']} threads: "
        + ", ".join(f"{kind} {count}" for kind, count in profile["thread_kinds"].items())
        + f"), timed by each thread's own CPU clock, merged. {profile['threads_waiting_at_collection']} threads were "
        "moto execution threads blocked waiting for the decision when collected: their open frames count up to "
        f"that point. Profiled runs took {ms(median(walls))} (p50) instead of the unprofiled figure above; "
        f"{profile['total_cpu_seconds']:.2f} s of profiled CPU in all. Shares are what to read, not absolute times, "
        "and cProfile inflates code made of many small Python calls (ANTLR's parser) more than the rest: the "
        "unprofiled parse time in section 4 is the honest share.")
    add("")
    add("<details><summary>Top 15 functions by cumulative time, by own time, and who creates boto3 clients / "
        "parses the definition</summary>")
    add("")
    for key, title in (("cumulative", "cumulative"), ("tottime", "own time (tottime)"), ("callers", "callers")):
        add(f"**{title}**")
        add("")
        add("```")
        add(profile["tables"].get(key, ""))
        add("```")
        add("")
    add("</details>")
    add("")
