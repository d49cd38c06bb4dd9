"""The scenario's `load.dns` block, its validation errors as a person reads them, and the way
it and the stack's DNS endpoints reach LoadSettings (harness.run.loadconfig)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import EXIT_USAGE, ScenarioError, UsageError
from harness.load.settings import LoadSettings
from harness.plan import timeline
from harness.run.loadconfig import load_settings
from harness.scenario.loader import parse_scenario
from harness.scenario.model import Load, LoadDns, Scenario
from harness.vocabulary import SERVICE_NAME

HEAD = """\
name: t
invariants: [no_lost_writes]
load:
  users: 10
  spawn_rate: 5
  duration: 60s
  geography: {us-east: 50, us-west: 50}
"""
BASE: dict[str, Any] = {
    "users": 20,
    "spawn_rate": 10,
    "duration": "30s",
    "geography": {"us-east": 70, "us-west": 30},
}


def problems(dns_line: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + f"  dns: {dns_line}\n", "s.yaml")
    assert info.value.exit_code == EXIT_USAGE
    return info.value.problems


def test_the_dns_block_is_optional_and_reads_durations() -> None:
    default = Load.model_validate(BASE).dns
    assert default == LoadDns() and (default.stale_share, default.stale_keep) == (0.0, 60.0)
    scenario = parse_scenario(HEAD + "  dns: {stale_share: 0.3, stale_keep: 2m}\n", "s.yaml")
    assert (scenario.load.dns.stale_share, scenario.load.dns.stale_keep) == (0.3, 120.0)


@pytest.mark.parametrize(
    ("dns_line", "expected"),
    [
        pytest.param(
            "{stale_share: 30}",
            "s.yaml:8: load.dns.stale_share: a share of users must be between 0 and 1, got 30"
            " (hint: 0.3 means 30 % of each region's users (stale_share: 0.3))",
            id="a percent for a share",
        ),
        pytest.param(
            "{stale_share: -0.1}",
            "s.yaml:8: load.dns.stale_share: a share of users must be between 0 and 1, got -0.1",
            id="negative share",
        ),
        pytest.param(
            "{stale_share: lots}",
            "s.yaml:8: load.dns.stale_share: Input should be a valid number",
            id="not a number",
        ),
        pytest.param(
            "{stale_share: 0.3, stale_keep: 0s}",
            "s.yaml:8: load.dns.stale_keep: Input should be greater than 0",
            id="keep nothing",
        ),
        pytest.param(
            "{stale_share: 0.3, stale_keep: 25h}",
            "s.yaml:8: load.dns.stale_keep: Input should be less than or equal to 86400",
            id="keep past a day",
        ),
        pytest.param(
            "{stale_share: 0.3, stale_keep: soon}",
            "s.yaml:8: load.dns.stale_keep: invalid duration 'soon'",
            id="not a duration",
        ),
        pytest.param(
            "{stale_keep: 30s}",
            "s.yaml:8: load.dns: stale_keep applies to the users that ignore TTLs, and"
            " stale_share is 0 (hint: add stale_share: 0.3, or remove stale_keep)",
            id="keep without a share",
        ),
        pytest.param(
            "{stale_shares: 0.3}",
            "s.yaml:8: load.dns.stale_shares: unknown key 'stale_shares' (did you mean"
            " 'stale_share'?)",
            id="typo",
        ),
        pytest.param(
            "0.3", "s.yaml:8: load.dns: expected a mapping (key: value), got 0.3", id="scalar"
        ),
    ],
)
def test_bad_dns_values_are_one_clear_problem_each(dns_line: str, expected: str) -> None:
    (problem,) = problems(dns_line)
    assert problem.startswith(expected), problem


def settings_of(load: dict[str, Any], tmp_path: Path, **stack: Any) -> LoadSettings:
    scenario = Scenario.model_validate({"name": "t", "load": BASE | load})
    return load_settings(
        scenario,
        timeline(scenario),
        host="http://127.0.0.1:8000",
        metrics="10.0.0.1:9646",
        run_dir=tmp_path,
        **stack,
    )


def test_the_stacks_dns_server_and_the_scenarios_stale_users_reach_the_settings(
    tmp_path: Path,
) -> None:
    s = settings_of(
        {"dns": {"stale_share": 0.25, "stale_keep": "90s"}},
        tmp_path,
        dns="127.0.0.1:5353",
        entry_port=8443,
    )
    assert s.uses_dns
    assert (s.dns_host, s.dns_port, s.dns_name, s.entry_port) == (
        "127.0.0.1",
        5353,
        SERVICE_NAME,
        8443,
    )
    assert (s.stale_share, s.stale_keep_s) == (0.25, 90.0)
    assert LoadSettings.from_json(s.to_json()) == s


def test_a_stack_without_dns_sends_every_request_to_the_host(tmp_path: Path) -> None:
    s = settings_of({}, tmp_path)
    assert not s.uses_dns
    assert (s.host, s.dns_host, s.dns_port, s.entry_port) == ("http://127.0.0.1:8000", "", 0, 0)


def test_stale_users_on_a_stack_without_dns_are_refused_before_the_load(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        settings_of({"dns": {"stale_share": 0.3}}, tmp_path)
    assert "this stack has no DNS server" in caught.value.message
    assert caught.value.hint and "remove load.dns" in caught.value.hint
