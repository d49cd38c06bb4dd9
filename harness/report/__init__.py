"""Renderers of a RunRecord: pure functions that return text; only the CLI writes files.

- `render_html(record)`: report.html, one self-contained file (inline CSS and plotly.js).
- `render_junit(record)`: junit.xml, one test case per SLO and invariant.
- `scan_runs(reports_dir)` and `render_index(entries)`: reports/index.html.
- `summary_text(record, run_dir)`: what the terminal shows at the end of a run (a table of
  every SLO and invariant, each failure, the verdict); `summary_lines` and `failure_lines` are
  its parts; JUnit and the HTML report share its per-row wording (harness/report/summary.py).
"""

from harness.report.html import render_html
from harness.report.index import IndexEntry, render_index, scan_runs
from harness.report.junit import render_junit
from harness.report.summary import failure_lines, summary_lines, summary_text

__all__ = [
    "IndexEntry",
    "failure_lines",
    "render_html",
    "render_index",
    "render_junit",
    "scan_runs",
    "summary_lines",
    "summary_text",
]
