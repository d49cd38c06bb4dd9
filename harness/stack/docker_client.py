"""The one place that opens a Docker connection, and turns "no engine" into advice."""

from __future__ import annotations

import os

import docker
import docker.errors
import requests

from harness.errors import InfraError

# Seconds for one Docker API call. Image builds stream and are bounded by their own deadline.
API_TIMEOUT_S = 60


def connect(timeout_s: float = API_TIMEOUT_S) -> docker.DockerClient:
    """A client whose engine has answered a ping; InfraError (exit 3) otherwise."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise InfraError(
            f"no Docker engine answers at {where} ({_short(exc)})",
            hint=(
                "start one: `bash scripts/setup.sh` installs and starts dockerd on Debian as root; "
                "elsewhere start Docker Desktop or `sudo systemctl start docker`"
            ),
        ) from exc
    return client


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
