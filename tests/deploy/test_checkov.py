"""checkov on the compiled template: every check passes except those skipped, with reasons, in .checkov.yaml."""

import subprocess

from tests.deploy.conftest import ROOT, TEMPLATE

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def test_checkov_passes_on_the_compiled_template(packaged):
    assert CHECKOV.exists(), "checkov is not installed: `make test` installs it into .venv-checkov"
    run = subprocess.run(
        [str(CHECKOV), "--config-file", ".checkov.yaml", "-f", str(TEMPLATE)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Passed checks" in run.stdout


def test_every_skipped_check_has_a_reason():
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [index for index, line in enumerate(lines) if line.strip().startswith("- CKV")]
    assert skips
    for index in skips:
        assert lines[index - 1].strip().startswith("#"), f"{lines[index].strip()} has no reason above it"
