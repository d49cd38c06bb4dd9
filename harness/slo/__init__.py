"""Judging SLOs against Prometheus: the objective kinds (objectives/) and the SLO model made
from them, PromQL expansion, the judge, the chart series collector, the Prometheus adapter."""
