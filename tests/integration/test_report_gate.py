"""A real short run: data in every chart, drawn by headless Chromium; and a gate that fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.slo.charts import CHARTS
from harness.stack.endpoints import Endpoints
from tests.integration.helpers import harness_cli

SCENARIO = """
name: it-report <script>alert(1)</script>
load:
  users: 16
  spawn_rate: 16
  duration: 30s
  geography: {us-east: 50, us-west: 50}
  tasks: {read_user: 4, create_user: 1, submit_photo: 3, read_job: 1}
faults:
  - {type: latency, link: shard1-us-east, latency_ms: 80, at: 10s, duration: 10s}
slos:
  - {name: few errors, phase: run, error_ratio: {max: 0.05}}
  - {name: impossible p95, phase: steady, latency_p95_ms: {max: 0.001}}
invariants: [no_lost_writes]
"""


@dataclass
class Run:
    code: int
    stderr: str
    run_dir: Path
    record: dict


@pytest.fixture(scope="module")
def run(stack: Endpoints, stack_name: str) -> Run:
    tmp = Path(tempfile.mkdtemp(prefix="it-report-"))
    (tmp / "s.yaml").write_text(SCENARIO)
    done = harness_cli(
        "run", str(tmp / "s.yaml"), "--stack", stack_name, "--reuse-stack",
        "--reports", str(tmp / "reports"),
    )  # fmt: skip
    (run_dir,) = [p for p in (tmp / "reports").iterdir() if p.is_dir()]
    record = json.loads((run_dir / "results.json").read_text())
    return Run(code=done.returncode, stderr=done.stderr, run_dir=run_dir, record=record)


def test_an_impossible_bound_fails_the_gate_and_names_the_slo(run: Run) -> None:
    assert run.code == 1, run.stderr[-2000:]
    fails = [line for line in run.stderr.splitlines() if line.startswith("SLO FAIL")]
    assert len(fails) == 1 and "impossible p95" in fails[0] and "[phase steady]" in fails[0]
    verdicts = {s["name"]: s["verdict"] for s in run.record["slos"]}
    assert verdicts == {"few errors": "pass", "impossible p95": "fail"}
    junit = (run.run_dir / "junit.xml").read_text()
    assert "impossible p95" in junit and "<failure" in junit


def test_every_chart_has_real_data(run: Run) -> None:
    for chart in CHARTS:
        lines = run.record["series"].get(chart.key, [])
        points = [v for line in lines for _, v in line["points"] if v is not None]
        assert len(points) >= 5, f"chart {chart.key} has no data"
    (fault,) = run.record["faults"]
    assert fault["applied_at"] and fault["removed_at"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is needed: `bash scripts/test.sh` installs Debian's chromium"
    return found


def browse(*args: str, url: str) -> str:
    profile = tempfile.mkdtemp(prefix="it-chromium-")
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args, url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_report_draws_every_chart_in_chromium_without_script_errors(run: Run) -> None:
    report = run.run_dir / "report.html"
    html = report.read_text()
    assert "<script>alert(1)</script>" not in html  # the hostile name is shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    dom = browse("--dump-dom", url=report.as_uri())
    head = dom[: dom.index("<head>")]
    assert f'data-charts-drawn="{len(CHARTS)}"' in head, head
    assert "data-script-errors" not in head, head
    shot = run.run_dir / "report.png"
    browse(f"--screenshot={shot}", "--window-size=1300,5200", url=report.as_uri())
    assert shot.stat().st_size > 50_000
