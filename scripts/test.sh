#!/usr/bin/env bash
# The README's test command: set up what is missing, check style and types, run every test.
#   bash scripts/test.sh            lint + types + unit + integration (real Docker stack)
#   bash scripts/test.sh --unit     lint + types + unit only (no Docker, no network)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${CHAOS_HARNESS_VENV:-$ROOT/.venv}"

if [[ "${1:-}" == "--unit" ]]; then
  # Unit tests need only the Python environment.
  SKIP_DOCKER=1
  shift
else
  SKIP_DOCKER=0
fi

if [[ $SKIP_DOCKER == 1 ]]; then
  [[ -x "$VENV/bin/pytest" ]] || CHAOS_SETUP_PYTHON_ONLY=1 bash scripts/setup.sh
else
  CHAOS_SETUP_BROWSER=1 bash scripts/setup.sh
fi

echo "== ruff"; "$VENV/bin/ruff" check .; "$VENV/bin/ruff" format --check .
echo "== mypy"; "$VENV/bin/mypy"
echo "== tests"
if [[ $SKIP_DOCKER == 1 ]]; then
  exec "$VENV/bin/pytest" tests/unit "$@"
fi
exec "$VENV/bin/pytest" tests/unit tests/integration "$@"
