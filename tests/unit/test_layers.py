"""The pure core loads without any client of the outside world (the import-linter contracts in
pyproject.toml say the same statically; this checks what really gets imported)."""

from __future__ import annotations

import json
import subprocess
import sys

CORE = [
    "harness.scenario.model",
    "harness.scenario.schema",
    "harness.plan",
    "harness.faults",
    "harness.slo.judge",
    "harness.slo.series",
    "harness.invariants.run",
    "harness.report",
    "harness.run.orchestrator",
]
CLIENTS = {
    *("docker", "toxiproxy", "requests", "psycopg", "redis", "prometheus_api_client", "locust"),
    "dns",  # dnspython: the users' resolver (harness.load.resolver) is an adapter
}


def test_the_core_imports_no_client() -> None:
    code = (
        f"import importlib, json, sys\nfor m in {CORE!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert CLIENTS.isdisjoint(json.loads(out.stdout))


def test_dnspython_is_imported_only_when_a_query_is_bound() -> None:
    """Every load process imports the resolver's names; only runs with geo DNS need dnspython
    (harness.stack.dns_query imports it when a query is bound)."""
    code = (
        "import sys\nimport harness.load.resolver, harness.load.client_metrics\n"
        "before = 'dns' in sys.modules\n"
        "from harness.load.resolver import dns_query\n"
        "dns_query(server='127.0.0.1', port=53, name='x')\n"
        "print(before, all(f'dns.{m}' in sys.modules for m in ('message', 'query', 'edns')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
