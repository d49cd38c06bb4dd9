"""Image building: rebuild only on a changed context; a failed build names image and log tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InfraError
from harness.stack import images
from tests.fakes import FakeDocker


def context(tmp_path: Path, content: str = "FROM debian:bookworm-slim\n") -> Path:
    (tmp_path / "Dockerfile").write_text(content)
    return tmp_path


def test_context_hash_changes_with_any_file(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    first = images.context_hash(ctx)
    assert images.context_hash(ctx) == first
    (ctx / "app.py").write_text("print(1)\n")
    assert images.context_hash(ctx) != first


def test_build_only_when_the_context_changed(tmp_path: Path) -> None:
    client = FakeDocker()
    ctx = context(tmp_path)
    build = lambda: images._ensure_built(client, "t:latest", ctx, lambda m: None, force=False)  # type: ignore[arg-type]  # noqa: E731
    build()
    build()
    assert client.api.builds == 1
    (ctx / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN true\n")
    build()
    assert client.api.builds == 2


def test_a_failed_build_names_the_image_and_shows_the_log_tail(tmp_path: Path) -> None:
    client = FakeDocker(fail_build=True)
    with pytest.raises(InfraError) as err:
        images._ensure_built(client, "chaos-harness/app:latest", context(tmp_path),  # type: ignore[arg-type]
                             lambda m: None, force=False)  # fmt: skip
    assert "building image chaos-harness/app:latest" in err.value.message
    assert "returned a non-zero code: 100" in err.value.message
    assert err.value.detail is not None
    tail = err.value.detail.splitlines()
    assert len(tail) == images._BUILD_LOG_TAIL and "thing-39" in tail[-1]
