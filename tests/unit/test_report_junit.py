"""junit.xml: parses, follows the JUnit XSD's shape (Jenkins junit-10.xsd), counts right."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from harness.record import SloResult
from harness.report import render_junit
from tests.samples import sample_record

# The rules of Jenkins' junit-10.xsd that CI tools rely on: allowed and required attributes,
# and the allowed children of each element, in the order the schema's xs:sequence fixes.
SCHEMA: dict[str, tuple[set[str], set[str], list[str]]] = {
    "testsuites": (
        {"name", "time", "tests", "failures", "errors", "disabled"},
        set(),
        ["testsuite"],
    ),
    "testsuite": (
        {
            "name",
            "tests",
            "failures",
            "errors",
            "time",
            "disabled",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
            "version",
        },
        {"name", "tests"},
        ["properties", "testcase", "system-out", "system-err"],
    ),
    "properties": (set(), set(), ["property"]),
    "property": ({"name", "value"}, {"name", "value"}, []),
    "testcase": (
        {"name", "assertions", "time", "classname", "status"},
        {"name"},
        ["skipped", "error", "failure", "system-out", "system-err"],
    ),
    "failure": ({"message", "type"}, set(), []),
    "error": ({"message", "type"}, set(), []),
}
NUMERIC = {"tests", "failures", "errors", "skipped", "disabled"}


def check_schema(el: ET.Element) -> None:
    allowed, required, children = SCHEMA[el.tag]
    assert set(el.attrib) <= allowed, (el.tag, set(el.attrib) - allowed)
    assert required <= set(el.attrib), (el.tag, required - set(el.attrib))
    for key in NUMERIC & set(el.attrib):
        assert el.attrib[key].isdigit()
    if "time" in el.attrib:
        float(el.attrib["time"])
    order = [children.index(child.tag) for child in el]  # ValueError: child not allowed
    assert order == sorted(order), f"children of {el.tag} out of order"
    for child in el:
        check_schema(child)


def check_counts(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases)
    assert int(suite.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
    assert int(suite.get("errors", "-1")) == sum(c.find("error") is not None for c in cases)


def parse(text: str) -> tuple[ET.Element, ET.Element]:
    root = ET.fromstring(text.encode())
    check_schema(root)
    suites = root.findall("testsuite")
    assert len(suites) == 1
    check_counts(suites[0])
    for key in ("tests", "failures", "errors"):
        assert root.get(key) == suites[0].get(key)
    return root, suites[0]


def test_one_suite_one_case_per_slo_and_invariant() -> None:
    _, suite = parse(render_junit(sample_record()))
    assert suite.get("name") == "chaos-harness.region-outage"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    cases = [(c.get("classname"), c.get("name")) for c in suite.findall("testcase")]
    assert cases == [
        ("slo.fault", "errors while us-east is down"),
        ("slo.steady", "steady p95"),
        ("slo.recovery", "custom"),
        ("invariant", "no_lost_writes"),
        ("invariant", "no_lost_jobs"),
    ]
    assert all(c.get("time") == "0" for c in suite.findall("testcase"))


def test_failing_slo_is_a_failure_with_observed_and_bound() -> None:
    _, suite = parse(render_junit(sample_record()))
    case = suite.find("testcase[@name='errors while us-east is down']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and case.find("error") is None
    assert failure.get("message") == "observed 0.071, bound max 0.05"
    assert "harness_client_requests_total" in (failure.text or "")


def test_errored_slo_is_an_error_naming_why() -> None:
    _, suite = parse(render_junit(sample_record()))
    case = suite.find("testcase[@name='custom']")
    assert case is not None
    error = case.find("error")
    assert error is not None and case.find("failure") is None
    assert error.get("message") == "query returned no data: check the metric name"


def test_passing_cases_have_no_children() -> None:
    _, suite = parse(render_junit(sample_record()))
    for name in ("steady p95", "no_lost_jobs"):
        case = suite.find(f"testcase[@name='{name}']")
        assert case is not None and len(case) == 0


def test_a_lossy_invariant_is_a_failure_listing_examples() -> None:
    _, suite = parse(render_junit(sample_record()))
    failure = suite.find("testcase[@name='no_lost_writes']/failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("3 lost, 0 duplicated of 1850 acknowledged, 0 unknown")
    assert "user 1042 (shard 2)" in (failure.text or "")


def test_infrastructure_error_is_an_extra_error_case() -> None:
    record = sample_record(
        status="error",
        exit_code=3,
        slos=[],
        invariants=[],
        error="Prometheus unreachable at 127.0.0.1:9090\nstart the stack",
    )
    _, suite = parse(render_junit(record))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "1")
    error = suite.find("testcase[@classname='infrastructure']/error")
    assert error is not None
    assert error.get("message") == "Prometheus unreachable at 127.0.0.1:9090"
    assert "start the stack" in (error.text or "")


def test_all_passing_run_counts_zero() -> None:
    record = sample_record(status="passed", exit_code=0)
    record.slos = [s.model_copy(update={"verdict": "pass", "error": None}) for s in record.slos]
    record.invariants = [i.model_copy(update={"verdict": "pass"}) for i in record.invariants]
    _, suite = parse(render_junit(record))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "0", "0")


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", 'a & b "quoted"', "ansi \x1b[31mred\x1b[0m", "nul\x00"]
)
def test_any_name_stays_well_formed(name: str) -> None:
    slo = SloResult(
        name=name, phase="fault", objective="promql", promql=name, verdict="error", error=name
    )
    _, suite = parse(render_junit(sample_record(slos=[slo], scenario_name=name)))
    case = suite.find("testcase")
    assert case is not None
    expected = name.replace("\x1b", "\ufffd").replace("\x00", "\ufffd")
    assert case.get("name") == expected
    assert suite.get("name") == f"chaos-harness.{expected}"
