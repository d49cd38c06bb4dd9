"""The JSON Schema of scenario files, generated from the models.

Editors use it through the `# yaml-language-server: $schema=./scenario.schema.json` line at
the top of each scenario; a copy is kept in scenarios/ and a unit test fails when it drifts.
Regenerate it with `harness schema > scenarios/scenario.schema.json`.
"""

from __future__ import annotations

import json

from harness.scenario.model import Scenario

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema() -> dict[str, object]:
    """The schema as a dict: the models' schema, with `$schema` and a title."""
    generated = Scenario.model_json_schema(by_alias=True)
    return {"$schema": SCHEMA_DIALECT, "title": "Chaos Harness scenario", **generated}


def schema_json() -> str:
    """The schema as indented JSON, what `harness schema` prints."""
    return json.dumps(schema(), indent=2)
