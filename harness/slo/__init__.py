"""Judging SLOs against Prometheus: PromQL expansion, the client adapter, the judge, the
chart series collector."""
