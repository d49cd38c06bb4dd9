"""Wait until the shard's leader key exists in etcd (v3 JSON gateway), at most WAIT_S seconds.

Run once, before Patroni, by a node whose first start must clone the leader (entrypoint.sh).
Reads the etcd address and the key from the environment the harness sets."""

import base64
import json
import os
import sys
import time
import urllib.request

ETCD = os.environ["ETCD_ADDR"]  # host:port, the witness's etcd through this region's link
KEY = os.environ["LEADER_KEY"]  # e.g. /chaos/shard-0/leader
DEADLINE = time.monotonic() + float(os.environ.get("WAIT_S", "120"))

body = json.dumps({"key": base64.b64encode(KEY.encode()).decode()}).encode()
while time.monotonic() < DEADLINE:
    try:
        request = urllib.request.Request(f"http://{ETCD}/v3/kv/range", data=body)
        with urllib.request.urlopen(request, timeout=2) as answer:
            if json.load(answer).get("kvs"):
                sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.5)
print(f"no leader for {KEY} in etcd at {ETCD}", file=sys.stderr)
sys.exit(1)
