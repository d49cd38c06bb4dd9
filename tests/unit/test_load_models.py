"""The `load:` keys of the two load models and request_timeout, from the scenario file through
LoadSettings to Locust's command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.load.runner import locust_command
from harness.load.settings import LoadSettings
from harness.plan import timeline
from harness.run.loadconfig import load_settings
from harness.scenario.model import Load, Scenario

BASE: dict[str, Any] = {
    "users": 20,
    "spawn_rate": 10,
    "duration": "30s",
    "geography": {"us-east": 70, "us-west": 30},
}


def test_closed_is_the_default_and_every_request_has_a_5s_timeout() -> None:
    load = Load.model_validate(BASE)
    assert (load.model, load.rate, load.max_in_flight, load.request_timeout) == (
        "closed",
        None,
        None,
        5.0,
    )


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        ({"rate": 50}, "open_model_only"),
        ({"max_in_flight": 50}, "open_model_only"),
        ({"model": "open"}, "open_model_rate"),
        ({"model": "open", "rate": 0}, "greater_than"),
        ({"model": "open", "rate": 20_000}, "less_than_equal"),
        ({"model": "open", "rate": 5, "max_in_flight": 0}, "greater_than_equal"),
        ({"model": "poisson"}, "literal_error"),
        ({"request_timeout": "50ms"}, "greater_than_equal"),
        ({"request_timeout": "2m"}, "less_than_equal"),
    ],
)
def test_load_model_keys_are_checked(keys: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Load.model_validate(BASE | keys)
    assert error in {e["type"] for e in caught.value.errors()}


@pytest.mark.parametrize(
    ("keys", "limit"),
    [
        ({"rate": 200}, 1000),  # rate x the 5 s timeout
        ({"rate": 200, "request_timeout": "500ms"}, 100),
        ({"rate": 0.5, "request_timeout": "1s"}, 1),
        ({"rate": 5000, "request_timeout": "60s"}, 10_000),
        ({"rate": 200, "max_in_flight": 30}, 30),
    ],
)
def test_in_flight_limit_defaults_to_rate_times_timeout(keys: dict[str, Any], limit: int) -> None:
    assert Load.model_validate(BASE | {"model": "open"} | keys).in_flight_limit() == limit


def settings_of(load: dict[str, Any], tmp_path: Path) -> LoadSettings:
    scenario = Scenario.model_validate({"name": "t", "load": BASE | load})
    return load_settings(
        scenario, timeline(scenario), host="http://r:1", metrics="10.0.0.1:9646", run_dir=tmp_path
    )


def test_the_scenario_open_model_reaches_the_load_settings(tmp_path: Path) -> None:
    s = settings_of({"model": "open", "rate": 120, "request_timeout": "2s"}, tmp_path)
    assert (s.model, s.rate, s.max_in_flight, s.request_timeout_s) == ("open", 120.0, 240, 2.0)
    # load-settings.json in the run directory says which model ran.
    assert json.loads(s.to_json())["model"] == "open"
    assert LoadSettings.from_json(s.to_json()) == s
    closed = settings_of({}, tmp_path)
    assert (closed.model, closed.rate, closed.max_in_flight) == ("closed", 0.0, 0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"model": "open"},  # no rate
        {"model": "open", "rate": 10, "max_in_flight": 0},
        {"model": "bursty"},
        {"request_timeout_s": 0},
        {"processes": 0},
    ],
)
def test_invalid_model_settings_are_rejected(overrides: dict[str, Any], tmp_path: Path) -> None:
    values = json.loads(settings_of({}, tmp_path).to_json()) | overrides
    with pytest.raises(ValueError):
        LoadSettings(**values)


def test_open_model_runs_one_scheduler_user_per_process(tmp_path: Path) -> None:
    s = settings_of({"model": "open", "rate": 120, "max_in_flight": 7}, tmp_path)
    joined = " ".join(locust_command(s, processes=3))
    assert "-u 3 -r 3 -t 30s" in joined and "--processes 3" in joined
    three = LoadSettings(**json.loads(s.to_json()) | {"processes": 3})
    assert three.in_flight_per_process == 3  # 7 over 3 processes, rounded up
    closed = " ".join(locust_command(settings_of({}, tmp_path)))
    assert "-u 20 -r 10.0 -t 30s" in closed
