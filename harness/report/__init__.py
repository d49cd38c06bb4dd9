"""Renderers of a RunRecord: pure functions that return text; only the CLI writes files.

- `render_html(record)`: report.html, one self-contained file (inline CSS and plotly.js).
- `render_junit(record)`: junit.xml, one test case per SLO and invariant.
- `scan_runs(reports_dir)` and `render_index(entries)`: reports/index.html.
- `summary_lines(record, run_dir)`: the lines printed on stderr at the end of a run.
"""

from harness.report.html import render_html
from harness.report.index import IndexEntry, render_index, scan_runs
from harness.report.junit import render_junit
from harness.report.terminal import summary_lines

__all__ = [
    "IndexEntry",
    "render_html",
    "render_index",
    "render_junit",
    "scan_runs",
    "summary_lines",
]
