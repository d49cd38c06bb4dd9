"""The one adapter over Toxiproxy's API, built on toxiproxy-python.

toxiproxy-python is this project's chosen client, but it is not safe as it is, so this module
fills its gaps (see also the issue note):

- it calls `requests.get/post/delete` with no timeout: a hung Toxiproxy would hang the
  harness, and with it the removal of every fault. We swap the package's `requests` for a
  transport that sets a timeout on every call and turns 5xx answers into errors (the package
  only checks 400, 404 and 409);
- it keeps the server address in class attributes (`APIConsumer.host/port`), global to the
  process; we set them under a lock before every call;
- `Proxy.add_toxic` returns None and `get_proxy` returns None for an unknown proxy; the
  package raises only for 400, 404 and 409. Our transport raises for every other status of
  400 and up, so a call that returns has been applied by the server (2xx); an unknown proxy
  is an error that names it. Proxies are looked up once and cached (they never change during
  a run), so applying a fault is one API call: the scheduler's precision depends on it.

Every failure is an InfraError that says which proxy or toxic, at which Toxiproxy URL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import toxiproxy.api
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy

from harness.errors import InfraError
from harness.stack.endpoints import Endpoints
from harness.stack.wan import BaselineToxic, wan_toxics

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 2.0
_PACKAGE_CHECKS = (400, 404, 409)  # toxiproxy.api.validate_response raises its own for these
_LOCK = threading.RLock()  # APIConsumer's host/port are process-global


class _BoundedTransport:
    """Stands in for the `requests` module inside toxiproxy.api: same calls, with timeouts."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.session = requests.Session()

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_s)
        response = self.session.request(method, url, **kwargs)
        if response.status_code >= 400 and response.status_code not in _PACKAGE_CHECKS:
            raise requests.HTTPError(
                f"{response.status_code} from {url}: {response.text[:200]}", response=response
            )
        return response

    def get(self, url: str, params: Any = None, **kw: Any) -> requests.Response:
        return self._send("GET", url, params=params, **kw)

    def post(self, url: str, data: Any = None, json: Any = None, **kw: Any) -> requests.Response:
        return self._send("POST", url, data=data, json=json, **kw)

    def delete(self, url: str, **kw: Any) -> requests.Response:
        return self._send("DELETE", url, **kw)


class ToxiproxyClient:
    """Bounded, checked calls to one Toxiproxy server (implements `harness.ports.LinkControl`)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        baseline: Sequence[BaselineToxic] = (),
    ) -> None:
        parts = urlsplit(url)
        # The stack's own toxics (the WAN's latency): put back after every reset, and not
        # something a fault left behind.
        self.baseline = tuple(baseline)
        if not parts.hostname or not parts.port:
            raise InfraError(f"Toxiproxy URL {url!r} has no host:port")
        self.url = url
        self._host, self._port = parts.hostname, parts.port
        self._transport = _BoundedTransport(timeout_s)
        self._server = Toxiproxy()
        self._proxies: dict[str, Proxy] = {}

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        with _LOCK:
            toxiproxy.api.APIConsumer.host = self._host
            toxiproxy.api.APIConsumer.port = self._port
            toxiproxy.api.requests = self._transport
            try:
                return fn()
            except (NotFound, InvalidToxic, ProxyExists) as exc:
                raise InfraError(
                    f"Toxiproxy at {self.url} refused to {what}: {_text(exc)}"
                ) from exc
            except requests.RequestException as exc:
                raise InfraError(
                    f"Toxiproxy at {self.url} did not answer to {what}: {exc}",
                    hint="is the stack up? `harness status` shows the toxiproxy service",
                ) from exc

    def _proxy(self, name: str) -> Proxy:
        if not self._proxies:
            self._proxies = self._call("list proxies", self._server.proxies)
        if name not in self._proxies:
            raise InfraError(
                f"Toxiproxy at {self.url} has no proxy named {name!r}",
                hint=f"its proxies: {', '.join(sorted(self._proxies))}",
            )
        return self._proxies[name]

    def version(self) -> str:
        response = self._call("tell its version", lambda: toxiproxy.api.APIConsumer.get("/version"))
        return response.text.strip()

    def proxies(self) -> dict[str, bool]:
        """Proxy name -> enabled."""
        found = self._call("list proxies", self._server.proxies)
        return {name: bool(proxy.enabled) for name, proxy in found.items()}

    def set_enabled(self, name: str, enabled: bool) -> None:
        proxy = self._proxy(name)
        verb = "enable" if enabled else "disable"
        self._call(f"{verb} proxy {name}", proxy.enable if enabled else proxy.disable)

    def add_toxic(
        self,
        proxy_name: str,
        *,
        name: str,
        type: str,
        attributes: dict[str, Any],
        stream: str = "downstream",
        toxicity: float = 1.0,
    ) -> None:
        proxy = self._proxy(proxy_name)
        self._call(
            f"add toxic {name} ({type}) to proxy {proxy_name}",
            lambda: proxy.add_toxic(
                name=name, type=type, stream=stream, toxicity=toxicity, attributes=attributes
            ),
        )

    def remove_toxic(self, proxy_name: str, name: str) -> None:
        """Remove a toxic; one that is already gone is fine (removal must be idempotent)."""
        proxy = self._proxy(proxy_name)
        try:
            self._call(
                f"remove toxic {name} from proxy {proxy_name}", lambda: proxy.destroy_toxic(name)
            )
        except InfraError as err:
            if not isinstance(err.__cause__, NotFound):
                raise

    def toxics(self, proxy_name: str) -> dict[str, dict[str, Any]]:
        proxy = self._proxy(proxy_name)
        found = self._call(f"list toxics of proxy {proxy_name}", proxy.toxics)
        return {name: {"type": t.type, "stream": t.stream} for name, t in found.items()}

    def reset(self) -> None:
        """Enable every proxy and remove every toxic but the stack's own (the WAN's latency,
        put back at once): the safety net at start and end of a run."""
        if not self._call("reset", self._server.reset):
            raise InfraError(f"Toxiproxy at {self.url} did not reset")
        for toxic in self.baseline:
            self.add_toxic(
                toxic.link,
                name=toxic.name,
                type=toxic.type,
                attributes=toxic.attributes,
                stream=toxic.stream,
            )

    def all_clean(self) -> list[str]:
        """What is not in its healthy state: disabled proxies and proxies with toxics."""
        dirty = []
        for name, enabled in self.proxies().items():
            if not enabled:
                dirty.append(f"{name} disabled")
            own = {b.name for b in self.baseline if b.link == name}
            dirty += [
                f"{name} has toxic {toxic}" for toxic in self.toxics(name) if toxic not in own
            ]
        return dirty


def stack_links(endpoints: Endpoints) -> ToxiproxyClient:
    """The client for a bundled stack's Toxiproxy, with the stack's WAN latency as baseline."""
    return ToxiproxyClient(endpoints.toxiproxy, baseline=wan_toxics(endpoints.wan_latency_ms))


def _text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else ""
    return arg.decode("utf-8", "replace").strip() if isinstance(arg, bytes) else str(arg)
