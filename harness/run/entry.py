"""`harness run` and `harness report`: validate and plan, run, then write every output.

Renderers are pure (they return text); this module is where their text becomes files.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from harness.errors import HarnessError, UsageError
from harness.load.registry import stop_orphans
from harness.plan import plan
from harness.plan_warnings import plan_warnings
from harness.record import RunRecord, load_record
from harness.run.compose import BundledStack
from harness.run.options import RunOptions
from harness.run.orchestrator import ScenarioRun
from harness.run.rundir import make_run_dir
from harness.scenario.loader import read_scenario
from harness.stack.config import BUGS

Say = Callable[[str], None]


def run_file(options: RunOptions, *, say: Say, live: Say) -> int:
    unknown = sorted(set(options.bugs) - set(BUGS))
    if unknown:
        raise UsageError(
            f"unknown --bug {', '.join(unknown)}", hint=f"valid bugs: {', '.join(sorted(BUGS))}"
        )
    # ScenarioError: exit 2, nothing started. Warnings are said and the run goes on.
    loaded = read_scenario(options.scenario_path, plan_warnings)
    for warning in loaded.warnings:
        say(f"warning: {warning}")
    scenario = loaded.scenario
    timeline = plan(scenario)
    run_dir = make_run_dir(options.reports_dir, scenario.name)
    say(f"run folder {run_dir}")
    stop_orphans(say=say)  # a load left by a killed harness must not hit this run's stack
    stack = BundledStack(scenario=scenario, options=options, run_id=run_dir.name, say=say)
    run = ScenarioRun(
        scenario=scenario,
        timeline=timeline,
        options=options,
        run_dir=run_dir,
        stack=stack,
        say=say,
        live=live,
    )
    code = run.execute()
    write_outputs(run.record, run_dir, say=say)
    from harness.report.summary import summary_text

    print(summary_text(run.record, run_dir), file=sys.stderr)
    return code


def write_outputs(record: RunRecord, run_dir: Path, *, say: Say) -> Path:
    """report.html, junit.xml and the reports index; a rendering bug must not lose the run."""
    report = run_dir / "report.html"
    try:
        from harness.report.html import render_html
        from harness.report.index import render_index, scan_runs
        from harness.report.junit import render_junit

        report.write_text(render_html(record), encoding="utf-8")
        (run_dir / "junit.xml").write_text(render_junit(record), encoding="utf-8")
        index = run_dir.parent / "index.html"
        index.write_text(render_index(scan_runs(run_dir.parent)), encoding="utf-8")
    except Exception as exc:  # the record is already saved; say what failed and go on
        say(f"rendering the report failed: {exc!r}; results.json is intact")
    return report


def rerender(run_dir: Path) -> Path:
    if not (run_dir / "results.json").exists():
        raise UsageError(
            f"{run_dir} holds no results.json", hint="pass a folder made by `harness run`"
        )
    try:
        record = load_record(run_dir)
    except ValueError as exc:
        raise HarnessError(f"{run_dir / 'results.json'} cannot be read: {exc}") from exc
    return write_outputs(record, run_dir, say=lambda m: print(m, file=sys.stderr))
