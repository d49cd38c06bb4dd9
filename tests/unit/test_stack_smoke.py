"""`harness check`'s smoke test finds each region's entry as that region's users do: through
the stack's DNS server (here the in-process FakeDnsServer), with the region's client subnet."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from harness.errors import InfraError
from harness.stack import smoke
from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES, REGIONS
from tests.fakes import ENDPOINTS, FakeDnsServer

HOME = {CLIENT_SUBNETS[r]: ENTRY_ADDRESSES[r] for r in REGIONS}


def test_each_region_is_checked_at_the_entry_the_dns_answers_its_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[tuple[str, str]] = []

    def check_region(url: str, region: str, **_: Any) -> str:
        checked.append((url, region))
        return region

    monkeypatch.setattr(smoke, "check_region", check_region)
    # us-west's users are sent to us-east's entry (a failover): the check goes where they go
    answers = {**HOME, CLIENT_SUBNETS["us-west"]: ENTRY_ADDRESSES["us-east"]}
    with FakeDnsServer(answers) as dns:
        endpoints = replace(ENDPOINTS, dns=f"127.0.0.1:{dns.port}", entry_port=41234)
        assert smoke.check_stack(endpoints) == list(REGIONS)
    assert checked == [("http://127.0.1.1:41234", "us-east"), ("http://127.0.1.1:41234", "us-west")]
    assert [subnet for _, subnet in dns.seen] == [CLIENT_SUBNETS[r] for r in REGIONS]


def test_no_dns_answer_is_an_infra_error_pointing_at_the_dns_container() -> None:
    with FakeDnsServer(HOME, mode="SERVFAIL") as dns:
        endpoints = replace(ENDPOINTS, dns=f"127.0.0.1:{dns.port}")
        with pytest.raises(InfraError, match="answered SERVFAIL") as caught:
            smoke.region_url(endpoints, "us-east")
    assert "dns container" in (caught.value.hint or "")
