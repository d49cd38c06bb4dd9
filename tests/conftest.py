"""Markers by location: everything under tests/integration needs Docker and the real stack.

pytest ignores `pytestmark` in a conftest.py, so the marker is applied here, at collection,
and `-m "not integration"` selects exactly the tests that need neither Docker nor network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True, scope="session")
def _load_records_in_a_temporary_state_dir(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Records of started load generators (harness/load/registry.py) go to a folder of the
    test session, never the user's own, so tests neither see nor stop a real run's Locust."""
    from harness.load.registry import STATE_ENV

    previous = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(tmp_path_factory.mktemp("state"))
    yield
    if previous is None:
        os.environ.pop(STATE_ENV, None)
    else:
        os.environ[STATE_ENV] = previous
