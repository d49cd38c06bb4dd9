from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import InfraError
from harness.load.runner import LOCUSTFILE, LoadProcess, locust_command
from harness.load.settings import LoadSettings


def settings(run_dir: Path, duration_s: float = 60) -> LoadSettings:
    return LoadSettings(
        host="http://127.0.0.1:1",
        users=10,
        spawn_rate=5,
        duration_s=duration_s,
        geography={"us-east": 70, "us-west": 30},
        tasks={"read_user": 1},
        seed=1,
        metrics_host="127.0.0.1",
        metrics_port=9646,
        run_dir=str(run_dir),
    )


def test_command_line(tmp_path):
    command = locust_command(settings(tmp_path))
    assert command[:5] == [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    joined = " ".join(command)
    assert "--headless --host http://127.0.0.1:1 -u 10 -r 5 -t 60s --stop-timeout 5" in joined
    assert f"--csv {tmp_path / 'locust'} --csv-full-history --only-summary" in joined
    assert "--processes" not in joined
    multi = locust_command(settings(tmp_path), processes=3)
    assert multi[multi.index("--processes") + 1] == "3"
    assert multi[multi.index("--master-bind-port") + 1] == multi[multi.index("--master-port") + 1]


def fake_load(tmp_path: Path, script: str, duration_s: float = 60) -> LoadProcess:
    popen = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    return LoadProcess(popen=popen, settings=settings(tmp_path, duration_s), outputs=())


def test_wait_past_its_timeout_stops_the_process_and_raises(tmp_path):
    with fake_load(tmp_path, "import time; time.sleep(60)") as load:
        started = time.monotonic()
        with pytest.raises(InfraError, match="still running"):
            load.wait(timeout_s=0.5)
        assert not load.running
        assert time.monotonic() - started < 15
        load.stop()  # twice is fine


def test_a_process_ignoring_sigterm_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr("harness.load.runner.TERM_GRACE_S", 0.5)
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    load = fake_load(tmp_path, script)
    time.sleep(0.3)
    load.stop()
    assert not load.running


def test_exit_without_history_is_an_infra_error_with_the_log_tail(tmp_path):
    (tmp_path / "locust.stderr").write_text("ImportError: no module named harness\n")
    load = fake_load(tmp_path, "raise SystemExit(2)")
    with pytest.raises(InfraError) as caught:
        load.wait(timeout_s=10)
    assert "no module named harness" in caught.value.render()
    with pytest.raises(InfraError):
        load.progress()


def test_stopping_a_load_removes_its_record(tmp_path):
    from harness.load import registry

    load = fake_load(tmp_path, "import time; time.sleep(60)")
    registry.record_load(load.pid, run_dir=str(tmp_path))
    assert [r.pid for r in registry.read_records()] == [load.pid]
    load.stop()
    assert registry.read_records() == []
