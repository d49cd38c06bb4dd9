"""X-Served-Region as the load generator reads it from an answer (harness.load.answers)."""

from __future__ import annotations

from types import SimpleNamespace

from geventhttpclient.header import Headers

from harness.load import answers
from harness.load.answers import served_region


def answer(headers: object) -> SimpleNamespace:
    return SimpleNamespace(headers=headers)


def test_the_installed_geventhttpclient_is_read_as_a_dict():
    # The hot path's shortcut is live: were Headers stored otherwise, served_region would
    # still be right (through get()), only slower, and nothing else would say so.
    assert answers.HEADERS_AS_DICT


def test_one_line_is_read_in_any_case():
    headers = Headers()
    headers["x-SERVED-region"] = "us-west"
    assert served_region(answer(headers)) == "us-west"


def test_repeated_lines_are_one_label_that_shows_them():
    headers = Headers()
    headers.add("X-Served-Region", "us-east")
    headers.add("X-Served-Region", "us-west")
    assert served_region(answer(headers)) == "us-east,us-west"


def test_no_header_or_no_answer_is_none():
    assert served_region(answer(Headers({"Content-Type": "application/json"}))) is None
    assert served_region(answer(None)) is None  # Locust's ErrorResponse: no answer came
    assert served_region(object()) is None


def test_other_kinds_of_headers_are_read_through_get():
    assert served_region(answer({"X-Served-Region": "us-east"})) == "us-east"  # a plain dict
    assert served_region(answer(Headers({"X-Served-Region": "us-east"}))) == "us-east"
