"""Wait, at most WAIT_S seconds, until the witness's etcd answers (through this region's
link), and with `leader` also until the shard's leader key exists.

Run once by entrypoint.sh before Patroni: Patroni 3.0 exits when etcd does not answer at its
start (the stack starts its containers together), and a node whose first start must clone
the leader must not race it to initdb a cluster of its own. Reads ETCD_ADDR and LEADER_KEY."""

import base64
import json
import os
import sys
import time
import urllib.request

ETCD = os.environ["ETCD_ADDR"]  # host:port
KEY = os.environ.get("LEADER_KEY", "")  # e.g. /chaos/shard-0/leader
DEADLINE = time.monotonic() + float(os.environ.get("WAIT_S", "120"))
WANT_LEADER = sys.argv[1:] == ["leader"]


def ready() -> bool:
    if not WANT_LEADER:
        with urllib.request.urlopen(f"http://{ETCD}/version", timeout=2) as answer:
            return answer.status == 200
    body = json.dumps({"key": base64.b64encode(KEY.encode()).decode()}).encode()
    request = urllib.request.Request(f"http://{ETCD}/v3/kv/range", data=body)
    with urllib.request.urlopen(request, timeout=2) as answer:
        return bool(json.load(answer).get("kvs"))


while time.monotonic() < DEADLINE:
    try:
        if ready():
            sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.3)
print(f"etcd at {ETCD}: {'no leader for ' + KEY if WANT_LEADER else 'no answer'}", file=sys.stderr)
sys.exit(1)
