"""Toxiproxy's start-up config: one proxy per link of topology.py, all enabled."""

from __future__ import annotations

import json

from harness.stack import topology as t


def toxiproxy_config() -> str:
    proxies = [
        {
            "name": link.name,
            "listen": f"0.0.0.0:{link.listen_port}",
            "upstream": link.upstream,
            "enabled": True,
        }
        for link in t.all_links()
    ]
    return json.dumps(proxies, indent=2) + "\n"
