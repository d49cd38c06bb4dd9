"""What the load generator reads from each answer's headers: X-Served-Region, the region
whose entry served it (the `served_region` label of the client metrics).

Read on every request (hot path), from geventhttpclient's `Headers` (Locust's FastHttpUser
answers). No Locust import here.
"""

from __future__ import annotations

from typing import Any

from geventhttpclient.header import Headers

from harness.vocabulary import SERVED_HEADER

SERVED_KEY = SERVED_HEADER.lower()
_dict_get = dict.get


def _headers_read_as_dict() -> bool:
    """Whether geventhttpclient's Headers is a dict of lower-case name -> (name, value) for a
    field of one line, as its __setitem__ stores it: then served_region reads it with
    dict.get, without Headers.get's two Python frames and `lower()` on every request.
    Checked once, so a version that stores headers otherwise is read through its get()."""
    probe = Headers()
    probe[SERVED_HEADER] = "probe"
    return isinstance(probe, dict) and _dict_get(probe, SERVED_KEY) == (SERVED_HEADER, "probe")


HEADERS_AS_DICT = _headers_read_as_dict()


def served_region(response: Any) -> str | None:
    """X-Served-Region of an answer; None without one (or without headers: no answer).
    Repeated lines (a proxy that added its own) come back joined by commas, one label that
    shows it. (Not `headers or {}`: truth-testing Headers counts them.)"""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if HEADERS_AS_DICT and isinstance(headers, dict):
        line = _dict_get(headers, SERVED_KEY)
        if line.__class__ is tuple:  # the field's only line
            return line[1]
    value = headers.get(SERVED_HEADER)
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)
