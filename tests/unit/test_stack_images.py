"""Image building: rebuild only on a changed context; a failed build names image and log tail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker.errors
import pytest

from harness.errors import InfraError
from harness.stack import images, labels


class FakeImage:
    def __init__(self, tag: str, ctx_hash: str) -> None:
        self.id = f"sha256:{tag}"
        self.labels = {labels.CONTEXT_HASH: ctx_hash}


class FakeImages:
    def __init__(self) -> None:
        self.store: dict[str, FakeImage] = {}

    def get(self, tag: str) -> FakeImage:
        if tag not in self.store:
            raise docker.errors.ImageNotFound(tag)
        return self.store[tag]


class FakeApi:
    def __init__(self, client: FakeClient, fail: bool) -> None:
        self.client, self.fail, self.builds = client, fail, 0

    def build(self, *, tag: str, labels: dict[str, str], **_: Any) -> list[dict[str, str]]:
        self.builds += 1
        if self.fail:
            steps = [
                {"stream": f"Step {i}/30 : RUN apt-get install thing-{i}\n"} for i in range(40)
            ]
            error = "The command '/bin/sh -c apt-get install nope' returned a non-zero code: 100"
            return [*steps, {"error": error}]
        self.client.images.store[tag] = FakeImage(tag, labels[images.labels.CONTEXT_HASH])
        return [{"stream": "Successfully built\n"}]


class FakeClient:
    def __init__(self, fail: bool = False) -> None:
        self.images = FakeImages()
        self.api = FakeApi(self, fail)


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
    client = FakeClient()
    ctx = context(tmp_path)
    build = lambda: images._ensure_built(client, "t:latest", ctx, lambda m: None, force=False)  # type: ignore[arg-type]  # noqa: E731
    build()
    build()
    assert client.api.builds == 1
    (ctx / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN true\n")
    build()
    assert client.api.builds == 2


def test_a_failed_build_names_the_image_and_shows_the_log_tail(tmp_path: Path) -> None:
    client = FakeClient(fail=True)
    with pytest.raises(InfraError) as err:
        images._ensure_built(client, "chaos-harness/app:latest", context(tmp_path),  # type: ignore[arg-type]
                             lambda m: None, force=False)  # fmt: skip
    assert "building image chaos-harness/app:latest" in err.value.message
    assert "returned a non-zero code: 100" in err.value.message
    assert err.value.detail is not None
    tail = err.value.detail.splitlines()
    assert len(tail) == images._BUILD_LOG_TAIL and "thing-39" in tail[-1]
