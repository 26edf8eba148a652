"""The CloudFormation template `serverless package` compiles for the local stage, compiled once.

Local mode checks every AWS call against the roles deploy would create; those roles are read from
this template, not from a second copy. Compiling takes 15 to 25 s, so the template is kept under
.local/compiled/<key>/, the key hashing every input that shapes it: serverless.yml, env.json, the
state machine definitions, the request schemas, the repo's plugins, the policy module the plugin
runs, the npm lock file, and SENDER_EMAIL as local mode overrides it. Packagings on one
checkout run one at a time (packaging_lock).

Local mode reads only the roles from this template: of the stage's keys, SENDER_EMAIL alone
reaches a role (the ses:FromAddress condition; tests/unit/test_local_config.py keeps it so). The
other overrides shape function environments and the definition, which local mode reads from
serverless.yml itself: they are left out of the compile, so they cost no compile of their own.

LOCAL_TEMPLATE=<path> uses that template file instead: tests take a permission away with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

from deploy.approval_policy import ENVIRONMENT_KEYS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_NAME = "cloudformation-template-update-stack.json"
_INPUTS = ("serverless.yml", "env.json", "package-lock.json", "functions/common/approval_policy.py",
           "deploy/approval_policy.py")
_INPUT_FOLDERS = ("statemachines", "schemas", "plugins")
# Of the stage's keys local mode overrides (deploy.approval_policy.ENVIRONMENT_KEYS), the one that reaches a role.
ROLE_KEYS = ("SENDER_EMAIL",)


class TemplateError(Exception):
    pass


def compiled_template(stage: str = "local", environ: Mapping[str, str] | None = None, root: Path = ROOT) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    override = environ.get("LOCAL_TEMPLATE")
    if override:
        return json.loads(Path(override).read_text(encoding="utf-8"))
    return json.loads(template_path(stage, environ, root).read_text(encoding="utf-8"))


def template_path(stage: str, environ: Mapping[str, str], root: Path = ROOT) -> Path:
    key = _key(stage, environ, root)
    folder = root / ".local" / "compiled" / key
    path = folder / TEMPLATE_NAME
    if path.exists():
        return path
    with packaging_lock(root):
        if not path.exists():
            _compile(stage, environ, root, folder)
    return path


@contextlib.contextmanager
def packaging_lock(root: Path = ROOT) -> Iterator[None]:
    """One `serverless package` at a time on this checkout: packagings share pip's and the
    requirements plugin's caches, and two at once corrupt each other's zips."""
    folder = root / ".local"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "packaging.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _key(stage: str, environ: Mapping[str, str], root: Path) -> str:
    digest = hashlib.sha256(stage.encode())
    files = [root / name for name in _INPUTS]
    for folder in _INPUT_FOLDERS:
        files.extend(sorted(path for path in (root / folder).rglob("*") if path.is_file()))
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update(json.dumps({key: environ.get(key) for key in ROLE_KEYS}, sort_keys=True).encode())
    return digest.hexdigest()[:20]


def _compile(stage: str, environ: Mapping[str, str], root: Path, folder: Path) -> None:
    if not (root / "node_modules" / ".bin" / "serverless").exists():
        raise TemplateError("the deploy toolchain is not installed: run `make local` (it runs npm ci)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(folder.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    # This process's environment without the stage's keys, but those that reach a role, from `environ`.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") and key not in ENVIRONMENT_KEYS and key != "LOCAL_TEMPLATE"}
    env.update({key: environ[key] for key in ROLE_KEYS if key in environ})
    env.update({"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off", "SLS_AWS_REQUEST_MAX_RETRIES": "0"})
    started = time.monotonic()
    run = subprocess.run(
        [str(root / "node_modules" / ".bin" / "serverless"), "package", "--stage", stage, "--package", str(partial)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )
    if run.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise TemplateError(f"serverless package --stage {stage} failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    # Only the template is kept: the zips are deploy's business.
    for path in partial.iterdir():
        if path.name != TEMPLATE_NAME:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    (partial / "compile-seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")
    partial.rename(folder)
