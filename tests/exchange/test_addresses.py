"""``exchange.api.addresses``: a login card's address is never a loopback one; the base
address is normalised; the addresses offered follow what the server listens on."""

from __future__ import annotations

import ipaddress

import pytest

from exchange.api.addresses import (
    candidate_urls,
    interface_ipv4s,
    is_loopback_host,
    public_base_url,
)
from exchange.api.app import Settings


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST.", "class.localhost", "::1", "[::1]"],
)
def test_loopback_hosts_are_recognised(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["192.168.1.20", "10.0.0.5", "class.example", "fe80::1", "::"])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("http://192.168.1.20:8000", "http://192.168.1.20:8000"),
        ("http://192.168.1.20:8000/", "http://192.168.1.20:8000"),
        ("http://192.168.1.20:8000/ui/", "http://192.168.1.20:8000"),
        (" https://class.example/carbonx/ui ", "https://class.example/carbonx"),
        ("http://[2001:db8::5]:8000/", "http://[2001:db8::5]:8000"),
    ],
)
def test_a_public_url_becomes_a_base_address(given: str, base: str) -> None:
    assert public_base_url(given) == base


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("http://127.0.0.1:8000/ui/", "loopback"),
        ("http://localhost:8000", "loopback"),
        ("http://[::1]:8000", "loopback"),
        ("192.168.1.20:8000", "not an http"),
        ("ftp://class.example", "not an http"),
        ("http://class.example/?key=x", "no query"),
        ("http://user:pw@class.example", "no query"),
        ("http://class.example:0", "port 0"),
        ("http://class.example:70000", "out of range"),
    ],
)
def test_a_public_url_that_trainees_cannot_open_is_refused(given: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        public_base_url(given)


def test_the_setting_is_checked_and_normalised() -> None:
    assert Settings(public_url="http://10.1.2.3:8000/ui/").public_url == "http://10.1.2.3:8000"
    assert Settings(public_url="").public_url is None
    with pytest.raises(ValueError, match="loopback"):
        Settings(public_url="http://127.0.0.1:8000")


def test_a_server_on_every_interface_offers_each_address() -> None:
    found = ["10.0.0.5", "192.168.1.20"]
    wanted = ["http://10.0.0.5:8000", "http://192.168.1.20:8000"]
    assert candidate_urls("0.0.0.0", 8000, found) == wanted
    assert candidate_urls("::", 8000, found) == wanted
    assert candidate_urls(None, 8000, found) == wanted  # not started by carbonx: not known


def test_a_server_on_one_address_offers_that_one_and_on_loopback_none() -> None:
    assert candidate_urls("192.168.1.20", 9000, ["10.0.0.5"]) == ["http://192.168.1.20:9000"]
    assert candidate_urls("2001:db8::5", 9000, []) == ["http://[2001:db8::5]:9000"]
    assert candidate_urls("127.0.0.1", 9000, ["10.0.0.5"]) == []
    assert candidate_urls("localhost", 9000, ["10.0.0.5"]) == []


def test_the_interface_addresses_leave_out_what_no_other_device_reaches() -> None:
    found = interface_ipv4s()
    assert found == sorted(set(found), key=ipaddress.IPv4Address)
    for text in found:
        address = ipaddress.IPv4Address(text)
        assert not address.is_loopback, text
        assert not address.is_link_local, text
        assert not address.is_unspecified, text
