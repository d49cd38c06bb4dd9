"""Every image the stack needs, made locally when it is missing or out of date.

- The project's images are built from target-stack/<dir>/ and labelled with a hash of their
  build context; a build runs only when that hash changed.
- `debian:bookworm-slim` and the Toxiproxy image are pulled when a registry answers; where
  none does (air-gapped CI), they are made under the same tags: the base with debootstrap +
  `docker import`, Toxiproxy from `go install` + a Dockerfile that copies the binary. The
  Dockerfiles never change either way.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from harness import __version__
from harness.errors import InfraError
from harness.stack import labels, spec

Progress = Callable[[str], None]

STACK_DIR = Path(__file__).resolve().parents[2] / "target-stack"
BASE_IMAGE = "debian:bookworm-slim"
TOXIPROXY_VERSION = "v2.12.0"
TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server"
DEBIAN_MIRROR = os.environ.get("CHAOS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE_DIR = Path(os.environ.get("CHAOS_HARNESS_CACHE", Path.home() / ".cache" / "chaos-harness"))

# tag -> build context directory under target-stack/
PROJECT_IMAGES = {
    spec.APP_IMAGE: "app",
    spec.ENTRY_IMAGE: "entry",
    spec.QUEUE_IMAGE: "queue",
    spec.SHARD_IMAGE: "shard",
    spec.PROMETHEUS_IMAGE: "prometheus",
    spec.WITNESS_IMAGE: "witness",
    spec.DNS_IMAGE: "dns",
}
_BUILD_LOG_TAIL = 30


def context_hash(directory: Path) -> str:
    """sha256 over the relative paths and contents of every file in a build context."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.name == ".gitignore":
            continue
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_images(
    client: docker.DockerClient, *, progress: Progress, force: bool = False, no_cache: bool = False
) -> dict[str, str]:
    """Make sure every image exists and is current; return tag -> image id.

    `force` rebuilds the project's images; `no_cache` also ignores Docker's layer cache (a
    cold build, as on a fresh machine)."""
    ids = {BASE_IMAGE: _ensure_base(client, progress)}
    ids[spec.TOXIPROXY_IMAGE] = _ensure_toxiproxy(client, progress)
    for tag, directory in PROJECT_IMAGES.items():
        ids[tag] = _ensure_built(
            client, tag, STACK_DIR / directory, progress, force=force or no_cache, no_cache=no_cache
        )
    return ids


def _image_id(client: docker.DockerClient, tag: str) -> str | None:
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def _try_pull(client: docker.DockerClient, tag: str, progress: Progress) -> str | None:
    progress(f"pulling {tag}")
    repo, _, version = tag.rpartition(":")
    try:
        client.images.pull(repo, tag=version)
    except docker.errors.DockerException as exc:
        progress(f"cannot pull {tag} ({str(exc).splitlines()[0][:120]}); making it locally")
        return None
    return _image_id(client, tag)


def _ensure_base(client: docker.DockerClient, progress: Progress) -> str:
    existing = _image_id(client, BASE_IMAGE) or _try_pull(client, BASE_IMAGE, progress)
    if existing:
        return existing
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None or os.geteuid() != 0:
        raise InfraError(
            f"{BASE_IMAGE} is missing and cannot be pulled",
            hint="run `bash scripts/setup.sh` as root on Debian (installs debootstrap), "
            f"or load the image yourself: `docker pull {BASE_IMAGE}` on a connected machine",
        )
    progress(f"making {BASE_IMAGE} with debootstrap from {DEBIAN_MIRROR} (about a minute)")
    with tempfile.TemporaryDirectory(prefix="chaos-debootstrap-") as root:
        _run([debootstrap, "--variant=minbase", "bookworm", root, DEBIAN_MIRROR], "debootstrap")
        progress(f"importing {BASE_IMAGE}")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        repo, _, version = BASE_IMAGE.partition(":")
        client.api.import_image_from_stream(tar.stdout, repository=repo, tag=version)
        if tar.wait(timeout=600) != 0:
            raise InfraError(f"tar of the debootstrap tree for {BASE_IMAGE} failed")
    image_id = _image_id(client, BASE_IMAGE)
    if image_id is None:
        raise InfraError(f"docker import did not produce {BASE_IMAGE}")
    return image_id


def _toxiproxy_binary(progress: Progress) -> Path:
    target = CACHE_DIR / f"toxiproxy-{TOXIPROXY_VERSION}" / "server"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None:
        raise InfraError(
            f"{spec.TOXIPROXY_IMAGE} cannot be pulled and Go is not installed to build it",
            hint=f"install Go, or load the image: `docker pull {spec.TOXIPROXY_IMAGE}`",
        )
    progress(f"building Toxiproxy {TOXIPROXY_VERSION} with go install")
    env = {**os.environ, "GOBIN": str(target.parent), "CGO_ENABLED": "0"}
    _run([go, "install", f"{TOXIPROXY_MODULE}@{TOXIPROXY_VERSION}"], "go install", env=env)
    return target


def _ensure_toxiproxy(client: docker.DockerClient, progress: Progress) -> str:
    existing = _image_id(client, spec.TOXIPROXY_IMAGE)
    if existing or (existing := _try_pull(client, spec.TOXIPROXY_IMAGE, progress)):
        return existing
    binary = _toxiproxy_binary(progress)
    with tempfile.TemporaryDirectory(prefix="chaos-toxiproxy-") as ctx:
        shutil.copytree(STACK_DIR / "toxiproxy", ctx, dirs_exist_ok=True)
        shutil.copy2(binary, Path(ctx) / "toxiproxy-server")
        return _build(client, spec.TOXIPROXY_IMAGE, Path(ctx), "local", progress)


def _ensure_built(
    client: docker.DockerClient,
    tag: str,
    context: Path,
    progress: Progress,
    *,
    force: bool,
    no_cache: bool = False,
) -> str:
    wanted = context_hash(context)
    try:
        image = client.images.get(tag)
        if not force and image.labels.get(labels.CONTEXT_HASH) == wanted:
            return str(image.id)
    except docker.errors.ImageNotFound:
        pass
    return _build(client, tag, context, wanted, progress, no_cache=no_cache)


def _build(
    client: docker.DockerClient,
    tag: str,
    context: Path,
    ctx_hash: str,
    progress: Progress,
    *,
    no_cache: bool = False,
) -> str:
    progress(f"building {tag} from {context}")
    lines: list[str] = []
    # network_mode=host: the build's apt-get reaches Debian's archive the way the host does.
    stream = client.api.build(
        path=str(context),
        tag=tag,
        rm=True,
        forcerm=True,
        nocache=no_cache,
        decode=True,
        network_mode="host",
        labels={labels.CONTEXT_HASH: ctx_hash, labels.VERSION: __version__},
    )
    for chunk in stream:
        if "stream" in chunk:
            lines.extend(chunk["stream"].rstrip("\n").splitlines())
        if "error" in chunk:
            tail = "\n".join(f"    {line}" for line in lines[-_BUILD_LOG_TAIL:])
            raise InfraError(
                f"building image {tag} from {context} failed: {chunk['error'].strip()}",
                hint="the build log's tail is below; fix the Dockerfile or the network and rerun",
                detail=tail,
            )
    image_id = _image_id(client, tag)
    if image_id is None:
        raise InfraError(f"building {tag} finished without producing the image")
    return image_id


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    except subprocess.TimeoutExpired as exc:
        raise InfraError(f"{what} did not finish within 15 minutes") from exc
    if done.returncode != 0:
        tail = "\n".join(f"    {line}" for line in (done.stdout + done.stderr).splitlines()[-20:])
        raise InfraError(f"{what} failed (exit {done.returncode})", detail=tail)
