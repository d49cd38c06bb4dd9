"""Telling the stack's Prometheus about the harness's host-side endpoints (file_sd files)."""

from __future__ import annotations

import docker
import docker.errors

from harness.errors import InfraError
from harness.stack.lifecycle import container_name, put_file
from harness.stack.scrape import FILE_SD_DIR, file_sd_target


class ScrapeRegistration:
    """file_sd files in the stack's Prometheus (implements `harness.ports.ScrapeTargets`)."""

    def __init__(self, client: docker.DockerClient, stack: str, run_id: str) -> None:
        try:
            self.container = client.containers.get(container_name(stack, "prometheus"))
        except docker.errors.NotFound as exc:
            raise InfraError(f"stack {stack!r} has no prometheus container") from exc
        self.run_id = run_id
        self.paths: list[str] = []

    def add(self, source: str, address: str) -> None:
        path = f"{FILE_SD_DIR}/{self.run_id}-{source}.json"
        put_file(self.container, path, file_sd_target(source, address, {"run": self.run_id}))
        self.paths.append(path)

    def remove_all(self) -> None:
        """Remove our files so a reused stack does not keep scraping endpoints that are gone."""
        if self.paths:
            self.container.exec_run(["rm", "-f", *self.paths])
            self.paths.clear()
