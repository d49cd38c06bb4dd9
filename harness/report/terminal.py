"""The lines printed on stderr when a run ends: each failure, then the verdict."""

from __future__ import annotations

from pathlib import Path

from harness.record import RunRecord
from harness.report._common import status_label


def summary_lines(record: RunRecord, run_dir: Path | str) -> list[str]:
    """One line per failed or errored SLO and invariant, the run's error, then the verdict."""
    lines = record.failures()
    if record.error:
        lines.append(f"RUN ERROR: {record.error.splitlines()[0]}")
    code = "-" if record.exit_code is None else str(record.exit_code)
    lines.append(
        f"{status_label(record.status)}: {record.scenario_name} (exit code {code}); "
        f"report in {run_dir}"
    )
    return lines
