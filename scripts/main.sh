#!/usr/bin/env bash
# The README's main command: set up what is missing, then run a bundled scenario end to end
# (stack up, geo-weighted load, a region outage, SLOs and invariants, report, stack down).
#   bash scripts/main.sh                         scenarios/region-outage.yaml
#   bash scripts/main.sh scenarios/smoke.yaml    any other scenario
# The exit code is the run's verdict (0 pass, 1 fail, 2 bad scenario, 3 infrastructure, 130).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec "${CHAOS_HARNESS_VENV:-$ROOT/.venv}/bin/harness" run "${1:-scenarios/region-outage.yaml}" "${@:2}"
