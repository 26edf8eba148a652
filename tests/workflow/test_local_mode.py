import os
import socket
import subprocess
import sys

from tests.workflow.conftest import ROOT


def test_a_busy_port_gives_a_clear_message_and_exit_code(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "local"], cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PORT": str(port), "OUTBOX": str(tmp_path)},
        )
    assert run.returncode == 2
    assert f"Port {port} is already in use" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_ctrl_c_stops_cleanly(local_service_factory):
    service = local_service_factory()
    assert service.stop() == 0
    assert "stopping" in service.log.read_text()
