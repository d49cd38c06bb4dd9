"""Prometheus's config for the stack: what the judge and the report read scraped each second.

The harness's own endpoints (the load generator, the fault recorder) live on the host and are
only known at run time, so they come from file_sd files the harness writes into the running
Prometheus container (see `FILE_SD_DIR`).
"""

from __future__ import annotations

import json
from typing import Any

from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.vocabulary import entry_service, instance_names, queue_service

FILE_SD_DIR = "/etc/prometheus/file_sd"


# Every exporter's and client library's own runtime series (Go GC, process, HTTP handler):
# about a third of all samples, and no objective, chart or reader of the stack's metrics uses
# them. Dropped at ingestion, so every scrape costs Prometheus less.
RUNTIME_SERIES = "go_.*|process_.*|promhttp_.*|net_conntrack_.*|python_.*"


# Jobs no objective, chart or invariant reads (the queues' and the DNS server's own
# exporters, Toxiproxy's and Prometheus's own series): there for a person looking, scraped
# every UNJUDGED_INTERVAL instead of each second. Scraped each second they cost the idle
# stack about 0.02 cores (the queue exporters alone run Redis's INFO on every scrape).
UNJUDGED_INTERVAL = "5s"

# The entries' HAProxy exporter: only its frontend and backend series (what the judge reads:
# haproxy_frontend_http_*, haproxy_backend_total_time_average_seconds). Its per-server
# series, 8 server-template slots of about 57 each, were 458 of its 665 series a scrape.
ENTRY_SCOPES = ["frontend", "backend"]


def _static(
    job: str,
    targets: list[tuple[str, dict[str, str]]],
    *,
    interval: str | None = None,
    params: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A job of fixed targets; `interval` other than the global 1 s, `params` in its URL."""
    return {
        "job_name": job,
        **({"scrape_interval": interval} if interval else {}),
        **({"params": params} if params else {}),
        "static_configs": [{"targets": [addr], "labels": labels} for addr, labels in targets],
        "metric_relabel_configs": [
            {"source_labels": ["__name__"], "regex": RUNTIME_SERIES, "action": "drop"}
        ],
    }


def scrape_jobs(config: StackConfig) -> list[dict[str, Any]]:
    # Instance names come from the vocabulary (not stack.spec, which imports this module).
    web = [
        (f"{name}:{t.WEB_PORT}", {"region": region, "service": name})
        for region in t.REGIONS
        for name in instance_names("web", region, config.web_replicas)
    ]
    workers = [
        (f"{name}:{t.WORKER_METRICS_PORT}", {"region": region, "service": name})
        for region in t.REGIONS
        for name in instance_names("worker", region, config.workers_per_region)
    ]
    shards = [
        (
            f"{t.shard_node(s, region)}:{t.SHARD_EXPORTER_PORT}",
            {"shard": str(s), "region": region, "service": t.shard_node(s, region)},
        )
        for s in range(t.SHARD_COUNT)
        for region in t.REGIONS
    ]
    queues = [
        (f"{queue_service(r)}:{t.QUEUE_EXPORTER_PORT}", {"region": r, "service": queue_service(r)})
        for r in t.REGIONS
    ]
    entries = [
        (f"{entry_service(r)}:{t.ENTRY_METRICS_PORT}", {"region": r, "service": entry_service(r)})
        for r in t.REGIONS
    ]
    every = UNJUDGED_INTERVAL
    return [
        _static("entry", entries, params={"scope": ENTRY_SCOPES}),
        # The DNS server's own statistics (queries, answer latency): PowerDNS's webserver.
        _static("dns", [(f"dns:{t.DNS_METRICS_PORT}", {"service": "dns"})], interval=every),
        _static("web", web),
        _static("worker", workers),
        _static("queue", queues, interval=every),
        _static("shard", shards),
        _static(
            "toxiproxy",
            [(f"toxiproxy:{t.TOXIPROXY_API_PORT}", {"service": "toxiproxy"})],
            interval=every,
        ),
        _static(
            "prometheus",
            [(f"localhost:{t.PROMETHEUS_PORT}", {"service": "prometheus"})],
            interval=every,
        ),
        {
            "job_name": "harness",
            "file_sd_configs": [{"files": [f"{FILE_SD_DIR}/*.json"], "refresh_interval": "1s"}],
        },
    ]


def prometheus_config(config: StackConfig) -> str:
    """prometheus.yml as text. JSON is valid YAML, and needs no YAML writer."""
    doc = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
        "scrape_configs": scrape_jobs(config),
    }
    return json.dumps(doc, indent=2) + "\n"


def file_sd_target(job: str, address: str, labels: dict[str, str] | None = None) -> str:
    """One file_sd file's content: a host-side endpoint Prometheus should scrape."""
    return json.dumps([{"targets": [address], "labels": {"source": job, **(labels or {})}}])
