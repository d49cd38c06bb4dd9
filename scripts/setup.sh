#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Python environment, Docker engine, host tools.
# Each step checks first and does nothing when its result is already there, so a warm
# machine passes through in a few seconds. Images (the Debian base, Toxiproxy, the stack's
# own) are made by the harness itself (`harness images`), the same code `harness up` uses.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CHAOS_HARNESS_VENV:-$ROOT/.venv}"
log() { printf '[setup] %s\n' "$*" >&2; }

is_debian_root() { [[ -f /etc/debian_version && "$(id -u)" == 0 ]]; }

apt_updated=0
apt_install() {
  if ! is_debian_root; then
    log "missing: $* - install it with your package manager and run this again"; exit 3
  fi
  if [[ $apt_updated == 0 ]]; then
    log "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Python environment -------------------------------------------------------------------
stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  log "creating Python environment in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "$ROOT[dev]"
  rm -f "$VENV"/.installed-*; touch "$stamp"
fi

if [[ "${CHAOS_SETUP_PYTHON_ONLY:-0}" == 1 ]]; then log "ready (Python only)"; exit 0; fi

# --- Docker engine ------------------------------------------------------------------------
docker_answers() { timeout 10 docker info >/dev/null 2>&1; }
if ! docker_answers; then
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
  fi
  if ! docker_answers; then
    if ! is_debian_root; then
      log "no Docker engine answers: start Docker (Docker Desktop, or 'sudo systemctl start docker') and run this again"
      exit 3
    fi
    log "starting dockerd in the background (log: /var/log/chaos-harness-dockerd.log)"
    # --iptables=false: the way dockerd was measured to work on these sandboxed machines; the
    # userland proxy still publishes ports on loopback, which is all the harness uses.
    setsid nohup dockerd --iptables=false </dev/null >/var/log/chaos-harness-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker_answers && break; sleep 1; done
    docker_answers || { log "dockerd did not answer within 60 s; see /var/log/chaos-harness-dockerd.log"; exit 3; }
  fi
fi

# --- Host tools the image fallbacks need (only where no registry answers) -----------------
if is_debian_root && ! command -v debootstrap >/dev/null 2>&1; then
  apt_install debootstrap
fi

# --- A headless browser for the report test (scripts/test.sh asks for it) -----------------
if [[ "${CHAOS_SETUP_BROWSER:-0}" == 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi

# --- Images: base image, Toxiproxy, the stack's images (only what is missing or stale) ----
"$VENV/bin/harness" images >/dev/null

log "ready"
