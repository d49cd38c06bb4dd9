"""A stand-in for the stack's entries on loopback, for the load generator's tests and benchmark.

Answers the web API's routes with the statuses the load generator expects and an
X-Served-Region header (the request's home region), fast enough not to be the bottleneck
(asyncio, keep-alive, no framework). `GET /_counts` returns the requests seen per
X-Home-Region, `GET /_created` the users and jobs it acknowledged, and `POST /_stall?s=2`
holds every answer to a request arriving in the next 2 s until those 2 s are over (a stalled
target, for the open model's latency correction). Run it as
`python -m harness.load.fake_target [PORT [ADDRESS ...]]`; it prints its port.

Given several addresses (the regions' entries, ENTRY_ADDRESSES), it listens on each at the
one port, as the stack's entries do for geo DNS; an answer through a region's entry says that
region served it, and `GET /_entries` returns the requests seen per "<entry> <home region>"
and per Host header.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys

from harness.vocabulary import ENTRY_ADDRESSES, SHARD_COUNT

USER = re.compile(rb"^/users/(\d+)$")
PHOTOS = re.compile(rb"^/users/(\d+)/photos$")
JOB = re.compile(rb"^/jobs/([^/]+)$")
STALL = re.compile(rb"^/_stall\?s=(\d+(?:\.\d+)?)$")
REGION_OF_ENTRY = {address: region for region, address in ENTRY_ADDRESSES.items()}


class Target:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.jobs = itertools.count(1)
        self.users: set[int] = set()
        self.by_home: dict[str, int] = {}
        self.by_entry: dict[str, int] = {}
        self.by_host: dict[str, int] = {}
        self.stalled_until = 0.0  # on the event loop's clock

    def count(self, entry: str, home: str, host: str) -> None:
        key = f"{entry} {home}"
        self.by_entry[key] = self.by_entry.get(key, 0) + 1
        self.by_host[host] = self.by_host.get(host, 0) + 1

    def answer(self, method: bytes, path: bytes, home: str, body: bytes) -> tuple[int, object]:
        self.by_home[home] = self.by_home.get(home, 0) + 1
        if method == b"POST" and path == b"/users":
            shard = json.loads(body or b"{}").get("shard")
            n = next(self.ids)
            user_id = n if shard is None else n * SHARD_COUNT + int(shard)
            self.users.add(user_id)
            return 201, {"id": user_id, "shard": user_id % SHARD_COUNT, "region": home}
        if method == b"GET" and (m := USER.match(path)):
            found = int(m.group(1)) in self.users
            return (200, {"id": int(m.group(1))}) if found else (404, {"error": "no such user"})
        if method == b"POST" and PHOTOS.match(path):
            return 202, {"job_id": f"job-{next(self.jobs)}"}
        if method == b"GET" and JOB.match(path):
            return 200, {"status": "done"}
        if method == b"GET" and path == b"/_counts":
            return 200, dict(self.by_home)
        if method == b"GET" and path == b"/_entries":
            return 200, {"by_entry": dict(self.by_entry), "by_host": dict(self.by_host)}
        if method == b"GET" and path == b"/_created":
            return 200, {"users": len(self.users), "jobs": next(self.jobs) - 1}
        return 404, {"error": "no such route"}


class Http(asyncio.Protocol):
    def __init__(self, target: Target):
        self.target = target
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.entry = str(transport.get_extra_info("sockname")[0])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].split(b"\r\n")
            fields = dict(_field(line) for line in head[1:])
            length = int(fields.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path, _ = head[0].split(b" ", 2)
            home = fields.get(b"x-home-region", b"none").decode()
            served = REGION_OF_ENTRY.get(self.entry) or ("us-east" if home == "none" else home)
            if not path.startswith(b"/_"):
                self.target.count(self.entry, home, fields.get(b"host", b"").decode())
            loop = asyncio.get_running_loop()
            if method == b"POST" and (m := STALL.match(path)):
                self.target.stalled_until = loop.time() + float(m.group(1))
                self.respond(200, {"stalled_s": float(m.group(1))}, served)
                continue
            status, payload = self.target.answer(method, path, home, body)
            if self.target.stalled_until > loop.time():
                loop.call_at(self.target.stalled_until, self.respond, status, payload, served)
            else:
                self.respond(status, payload, served)

    def respond(self, status: int, payload: object, served: str) -> None:
        if self.transport.is_closing():  # the client gave up while the answer was held
            return
        body = json.dumps(payload).encode()
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"X-Served-Region: {served}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.transport.write(head.encode() + body)


def _field(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()


async def serve(port: int = 0, addresses: tuple[str, ...] = ("127.0.0.1",)) -> None:
    target = Target()
    loop = asyncio.get_running_loop()
    servers = []
    for address in addresses:  # the first picks the port (when 0), the others share it
        server = await loop.create_server(lambda: Http(target), address, port)
        port = server.sockets[0].getsockname()[1]
        servers.append(server)
    print(port, flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(
        serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0, tuple(sys.argv[2:]) or ("127.0.0.1",))
    )
