"""Markers by location: everything under tests/integration needs Docker and the real stack.

pytest ignores `pytestmark` in a conftest.py, so the marker is applied here, at collection,
and `-m "not integration"` selects exactly the tests that need neither Docker nor network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)
