"""Where each concept lives: the task token, the state names Python relies on."""

import re
from pathlib import Path

import yaml

from functions.request_approval.logic import AWAIT_APPROVAL

ROOT = Path(__file__).resolve().parents[2]
CALLBACKS = "functions/common/callbacks"


def sources(folder: str) -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text() for path in (ROOT / folder).rglob("*.py")}


def test_only_the_table_stores_task_tokens_and_only_delivery_sends_them():
    functions = sources("functions")
    sending = {path for path, text in functions.items() if "send_task_" in text}
    assert sending == {f"{CALLBACKS}/delivery.py"}
    holding = {path for path, text in functions.items() if "taskToken" in text and path != f"{CALLBACKS}/__init__.py"}
    # The two Tasks that wait for a token receive it in their event and hand it to the store at once.
    receiving = {"functions/calculate/logic.py", "functions/request_approval/logic.py"}
    assert holding == {f"{CALLBACKS}/table.py", f"{CALLBACKS}/delivery.py", *receiving}
    for path in receiving:
        uses = re.findall(r"[^\n]*taskToken[^\n]*", functions[path])
        assert all('task_token=event["taskToken"]' in line for line in uses), (path, uses)


def test_the_model_holds_no_aws_client_and_no_token():
    model = (ROOT / CALLBACKS / "model.py").read_text()
    assert not re.search(r"^(from|import) (boto3|botocore)", model, re.M)
    assert "taskToken" not in model
    from dataclasses import fields, is_dataclass

    from functions.common.callbacks import model as records

    kinds = [value for value in vars(records).values() if is_dataclass(value)]
    assert len(kinds) >= 5 and not [(kind, field.name) for kind in kinds for field in fields(kind) if "token" in field.name]


def test_python_finds_the_approval_waits_by_their_state_names():
    states = yaml.safe_load((ROOT / "statemachines/approval.asl.yml").read_text())["States"]
    assert states[AWAIT_APPROVAL]["Type"] == "Task"
    for name in ("Approval", AWAIT_APPROVAL):
        assert states[name]["Parameters"]["Payload"]["state.$"] == "$$.State.Name", name


def test_the_readmes_map_of_steps_matches_serverless_yml_and_the_asl():
    """README's table: each row's state, function, folder, route and tests exist as named."""
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \| (.+?) \| (.+?) \|$", readme.split("Where each step lives")[1], re.M)[2:]
    service = yaml.safe_load(re.sub(r"\$\{[^}]*\}", "x", (ROOT / "serverless.yml").read_text()))
    states = {name for machine in ("workflow", "approval")
              for name in yaml.safe_load((ROOT / f"statemachines/{machine}.asl.yml").read_text())["States"]}
    functions = service["functions"]
    named = set()
    for state, function, folder, route, tests in rows:
        for name in re.findall(r"`(\w+)`", state):
            assert name in states, name
        match = re.fullmatch(r"`(\w+)`", function)
        if match:
            named.add(match.group(1))
            spec = functions[match.group(1)]
            assert spec["handler"].startswith(folder.strip("`")), (function, folder)
            paths = {"/" + event["http"]["path"] for event in spec.get("events", []) if "http" in event}
            assert paths == set(re.findall(r"/[\w{}/]+", route)) or (not paths and route == "—"), (function, route)
        for test in re.findall(r"`(tests/[\w/]+\.py)`", tests):
            assert (ROOT / test).exists(), test
    assert named == set(functions)
