#!/usr/bin/env bash
# The README's test command: set up what is missing, check style and types, run every test.
#   bash scripts/test.sh            lint + types + import contracts + unit + integration (real Docker stack)
#   bash scripts/test.sh --unit     lint + types + import contracts + unit only (no Docker, no network)
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
  # lint-imports too: a venv made before the import contracts lacks it.
  [[ -x "$VENV/bin/pytest" && -x "$VENV/bin/lint-imports" ]] || CHAOS_SETUP_PYTHON_ONLY=1 bash scripts/setup.sh
else
  CHAOS_SETUP_BROWSER=1 bash scripts/setup.sh
fi

echo "== ruff"; "$VENV/bin/ruff" check .; "$VENV/bin/ruff" format --check .
echo "== mypy"; "$VENV/bin/mypy"
# The layers and "the pure core imports no adapter" (contracts in pyproject.toml).
echo "== import contracts"; "$VENV/bin/lint-imports"
echo "== tests"
if [[ $SKIP_DOCKER == 1 ]]; then
  exec "$VENV/bin/pytest" tests/unit "$@"
fi
exec "$VENV/bin/pytest" tests/unit tests/integration "$@"
