"""The Lambda runtime's Python on this machine: one locator for the Makefile, plugins/bytecode.js and bench.

`python3 deploy/lambda_python.py 3.12 [--or-venv]` prints the interpreter's path, or exits 1.
Tried in order: $LAMBDA_PYTHON, pythonX.Y on the PATH, pyenv's X.Y.* (newest first), and with
--or-venv the project's .venv. Each candidate is run to check its version (a pyenv shim whose
version is not selected fails that check). Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def candidates(version: str, or_venv: bool = False) -> list[str]:
    found = [os.environ.get("LAMBDA_PYTHON", ""), f"python{version}"]
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        root = ""  # no pyenv on this machine
    if root and (Path(root) / "versions").is_dir():
        versions = [entry for entry in (Path(root) / "versions").iterdir() if entry.name.startswith(f"{version}.")]
        versions.sort(key=lambda entry: [int(part) if part.isdigit() else 0 for part in entry.name.split(".")],
                      reverse=True)
        found += [str(entry / "bin" / "python3") for entry in versions]
    if or_venv:
        found.append(str(ROOT / ".venv" / "bin" / "python"))
    return [candidate for candidate in found if candidate]


def find(version: str, or_venv: bool = False) -> str | None:
    for candidate in candidates(version, or_venv):
        try:
            run = subprocess.run([candidate, "-c", 'import sys; print("%d.%d" % sys.version_info[:2])'],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue  # not there, or not runnable
        if run.returncode == 0 and run.stdout.strip() == version:
            return candidate
    return None


def main(argv: list[str]) -> int:
    found = find(argv[0], "--or-venv" in argv[1:])
    if found is None:
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
