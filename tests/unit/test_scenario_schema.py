"""The JSON Schema kept in scenarios/ must match the models it is generated from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.faults import SPECS
from harness.scenario.schema import schema, schema_json

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SCHEMA_FILE = SCENARIOS / "scenario.schema.json"


def test_schema_file_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8").strip() == schema_json().strip(), (
        "scenarios/scenario.schema.json is out of date with the models; "
        "run `harness schema > scenarios/scenario.schema.json`"
    )


def test_schema_has_dialect_title_and_descriptions() -> None:
    generated = schema()
    assert generated["$schema"].startswith("https://json-schema.org/")
    assert generated["title"] == "Chaos Harness scenario"
    assert generated["additionalProperties"] is False
    assert (
        "description" in generated["properties"]["load"]
        or "$ref" in generated["properties"]["load"]
    )
    assert json.loads(schema_json()) == generated


def test_schema_fault_union_is_discriminated_by_type() -> None:
    items = schema()["properties"]["faults"]["items"]
    assert items["discriminator"]["propertyName"] == "type"
    assert set(items["discriminator"]["mapping"]) == set(SPECS)
    for ref in items["discriminator"]["mapping"].values():
        definition = schema()["$defs"][ref.rsplit("/", 1)[1]]
        assert definition["required"][0] == "type"
        assert definition["additionalProperties"] is False


def test_schema_offers_regions_and_links_as_enums() -> None:
    defs = schema()["$defs"]
    assert defs["RegionOutageSpec"]["properties"]["region"]["enum"] == ["us-east", "us-west"]
    assert "shard2-us-east" in defs["LatencySpec"]["properties"]["link"]["enum"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_match_the_schema(scenario: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(yaml.safe_load(scenario.read_text()), json.loads(SCHEMA_FILE.read_text()))
