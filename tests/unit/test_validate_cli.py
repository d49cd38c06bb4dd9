"""`harness validate` and `harness schema` end to end: exit codes and what reaches stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario.schema import schema_json
from tests.unit.test_scenario_loader import BAD, BUNDLED, Bad, expected_prefix, write_case

runner = CliRunner()


def test_bundled_scenarios_validate() -> None:
    result = runner.invoke(app, ["validate", *map(str, BUNDLED)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count(": ok (") == len(BUNDLED)


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_input_exits_2_naming_line_and_field(case: Bad, tmp_path: Path) -> None:
    path = write_case(case, tmp_path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert expected_prefix(case, path) in result.stderr
    assert case.needle in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_one_bad_file_among_good_ones_fails_the_run(tmp_path: Path) -> None:
    bad = write_case(BAD["unknown region"], tmp_path)
    result = runner.invoke(app, ["validate", str(BUNDLED[0]), str(bad)])
    assert result.exit_code == 2
    assert ": ok (" in result.stdout
    assert f"{bad}:7: load.geography.eu-west: unknown region 'eu-west'" in result.stderr


def test_real_process_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = write_case(BAD["duration 10x"], tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "validate", str(bad), str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert f"{bad}:6: load.duration: invalid duration '10x'" in proc.stderr
    assert f"{tmp_path / 'nope.yaml'}: the file does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_schema_command_prints_the_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.stdout.strip() == schema_json().strip()
