"""junit.xml: one test case per SLO and invariant, for the CI's test UI.

A failed SLO or invariant is a <failure> (observed vs bound); an SLO that could not be judged
(no data, Prometheus unreachable) is an <error>, as is the run's own infrastructure error,
which gets a test case of its own. A run that did not happen as planned lists each planned
check as <skipped> ("not judged: ..."). ElementTree escapes every attribute and text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from harness.record import InvariantResult, RunRecord, SloResult
from harness.report._common import duration
from harness.report.summary import counts, measure

SUITE_PREFIX = "chaos-harness."
# Characters XML 1.0 forbids (ANSI escapes in an error, NUL in a log line): ET would write them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(root: ET.Element) -> None:
    for el in root.iter():
        if el.text:
            el.text = _NOT_XML.sub("\ufffd", el.text)
        for key, val in el.attrib.items():
            el.attrib[key] = _NOT_XML.sub("\ufffd", val)


def _seconds(start: float | None, end: float | None) -> str:
    return f"{max(0.0, end - start):.3f}" if start is not None and end is not None else "0"


def _slo_case(slo: SloResult) -> ET.Element:
    case = ET.Element("testcase", name=slo.name, classname=f"slo.{slo.phase}", time="0")
    summary = measure(slo)
    text = f"{slo.objective}: {slo.promql}\nwindow: {duration(slo.window_start, slo.window_end)}"
    if slo.verdict == "fail":
        failure = ET.SubElement(case, "failure", message=summary, type="SloFailed")
        failure.text = text
    elif slo.verdict == "error":
        message = slo.error or summary
        error = ET.SubElement(case, "error", message=message, type="SloError")
        error.text = f"{text}\n{summary}"
    return case


def _invariant_case(inv: InvariantResult) -> ET.Element:
    case = ET.Element("testcase", name=inv.name, classname="invariant", time="0")
    summary = f"{counts(inv)} ({inv.found} found)"
    text = "\n".join([inv.detail, *inv.lost_examples[:50]]).strip() or None
    if inv.verdict in ("fail", "error"):
        tag = "failure" if inv.verdict == "fail" else "error"
        kind = "InvariantFailed" if inv.verdict == "fail" else "InvariantError"
        ET.SubElement(case, tag, message=summary, type=kind).text = text
    return case


def _run_error_case(record: RunRecord) -> ET.Element:
    case = ET.Element("testcase", name="run", classname="infrastructure", time="0")
    message = (record.error or "").splitlines()[0] if record.error else ""
    ET.SubElement(case, "error", message=message, type="InfrastructureError").text = record.error
    return case


def _not_judged_cases(record: RunRecord) -> list[ET.Element]:
    """A run that did not happen as planned judges nothing: each planned check is listed as
    skipped, with the reason, so the CI shows what was not judged rather than nothing."""
    why = f"not judged: {record.deviation}"
    planned = [("slo." + str(s.get("phase", "run")), str(s.get("name", "?")))
               for s in record.scenario.get("slos") or []]  # fmt: skip
    planned += [("invariant", str(name)) for name in record.scenario.get("invariants") or []]
    cases = []
    for classname, name in planned:
        case = ET.Element("testcase", name=name, classname=classname, time="0")
        ET.SubElement(case, "skipped", message=why)
        cases.append(case)
    return cases


def render_junit(record: RunRecord) -> str:
    """The run's junit.xml as a string; the caller writes it."""
    cases = [_slo_case(s) for s in record.slos] + [_invariant_case(i) for i in record.invariants]
    if record.deviation is not None:
        cases += _not_judged_cases(record)
    if record.error:
        cases.append(_run_error_case(record))
    failures = sum(c.find("failure") is not None for c in cases)
    errors = sum(c.find("error") is not None for c in cases)
    skipped = str(sum(c.find("skipped") is not None for c in cases))
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors)}
    elapsed = _seconds(record.started_at, record.ended_at)
    root = ET.Element("testsuites", {"name": "chaos-harness", "time": elapsed, **counts})
    started = datetime.fromtimestamp(record.started_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    suite_attrs = {"name": f"{SUITE_PREFIX}{record.scenario_name}", **counts, "skipped": skipped}
    suite = ET.SubElement(root, "testsuite", {**suite_attrs, "time": elapsed, "timestamp": started})
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", record.run_id),
        ("scenario_file", record.scenario_file),
        ("seed", str(record.seed)),
        ("status", record.status),
        ("exit_code", "" if record.exit_code is None else str(record.exit_code)),
        ("harness_version", record.harness_version),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    suite.extend(cases)
    _clean(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
