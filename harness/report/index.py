"""reports/index.html: every run in the reports directory, newest first, with its verdict.

`scan_runs` reads each `<run dir>/results.json`; one that cannot be read or validated is
listed as "unreadable" rather than hiding it or failing the whole index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pydantic import ValidationError

from harness.record import load_record
from harness.report import _common as c

UNREADABLE = "unreadable"


@dataclass(frozen=True, kw_only=True)
class IndexEntry:
    """One run of the index. `link` is relative to the reports directory."""

    time: datetime  # the run's start, UTC; the file's mtime for an unreadable run
    run_dir: str
    scenario: str
    status: str  # a RunStatus, or "unreadable"
    exit_code: int | None
    duration: str
    link: str
    problem: str = ""  # why an unreadable run could not be read


def _entry(run_dir: Path) -> IndexEntry:
    link = f"{quote(run_dir.name)}/report.html"
    try:
        record = load_record(run_dir)
    except (OSError, ValueError, ValidationError) as exc:
        mtime = (run_dir / "results.json").stat().st_mtime
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return IndexEntry(
            time=datetime.fromtimestamp(mtime, tz=UTC),
            run_dir=run_dir.name,
            scenario=run_dir.name,
            status=UNREADABLE,
            exit_code=None,
            duration="-",
            link=link if (run_dir / "report.html").exists() else f"{quote(run_dir.name)}/",
            problem=f"results.json: {problem}",
        )
    return IndexEntry(
        time=datetime.fromtimestamp(record.started_at, tz=UTC),
        run_dir=run_dir.name,
        scenario=record.scenario_name,
        status=record.status,
        exit_code=record.exit_code,
        duration=c.duration(record.started_at, record.ended_at),
        link=link,
        # A run that left its plan is an error that judged nothing: say so beside its name.
        problem=f"not judged: {record.deviation}" if record.deviation else "",
    )


def scan_runs(reports_dir: Path) -> list[IndexEntry]:
    """Every run directory (one holding a results.json) under reports_dir, newest first."""
    if not reports_dir.is_dir():
        return []
    runs = [d for d in reports_dir.iterdir() if d.is_dir() and (d / "results.json").is_file()]
    entries = [_entry(d) for d in runs]
    return sorted(entries, key=lambda e: (e.time, e.run_dir), reverse=True)


def render_index(entries: list[IndexEntry]) -> str:
    """reports/index.html as a string; the caller writes it."""
    template = c.environment().get_template("index.html.j2")
    return template.render(entries=entries, label=c.status_label, generated=datetime.now(tz=UTC))
