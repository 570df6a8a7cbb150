"""The address trainees open: the public URL the server was given, or the addresses it can be
reached at on the classroom's network.

A class's trainees open the server from their own computers and phones, so a login card must
never carry a loopback address (``127.0.0.1``, ``localhost``, ``::1``): on a trainee's device
it names that device. Behind a name or a proxy the server is told its public URL
(``CARBONX_PUBLIC_URL``, ``carbonx serve --public-url``); otherwise the instructor console is
offered this host's interface addresses with the port the server answers on, when it listens
beyond loopback (``carbonx serve --host 0.0.0.0``).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # listening on every interface
SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address (netdevice(7))
IFNAMSIZ = 16


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) names the
    device it is opened on."""
    name = host.strip("[]").rstrip(".").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def public_base_url(text: str) -> str:
    """``text`` as the base address trainees open, ``http(s)://host[:port][/prefix]``, without
    a trailing ``/`` or ``/ui`` (the UI's path is added to it). ValueError for anything else,
    and for a loopback host, which no trainee can reach."""
    url = urlsplit(text.strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"not an http(s) address: {text!r}")
    if url.query or url.fragment or url.username or url.password:
        raise ValueError(f"a base address has no query, fragment or user: {text!r}")
    if is_loopback_host(url.hostname):
        raise ValueError(f"{url.hostname} is a loopback address, which trainees cannot reach")
    if url.port == 0:  # (and a ValueError from .port for one out of range)
        raise ValueError(f"port 0 is no address: {text!r}")
    path = url.path.rstrip("/")
    path = path.removesuffix("/ui")
    return f"{url.scheme}://{url.netloc}{path}"


def interface_ipv4s() -> list[str]:
    """This host's IPv4 addresses that another device may reach: loopback, link-local and
    unspecified addresses left out."""
    found = _linux_ipv4s() if sys.platform == "linux" else _resolved_ipv4s()
    return sorted({a for a in found if _reachable(a)}, key=ipaddress.IPv4Address)


def candidate_urls(listen_host: str | None, port: int, interfaces: Iterable[str]) -> list[str]:
    """The base addresses to offer for a server listening on ``listen_host`` (None: not known)
    and ``port``: every interface address for a wildcard (or unknown) host, the host itself
    otherwise, none for a loopback host."""
    if listen_host is not None and listen_host not in WILDCARD_HOSTS:
        hosts = [] if is_loopback_host(listen_host) else [listen_host]
    else:
        hosts = list(interfaces)
    return [f"http://{_bracketed(h)}:{port}" for h in hosts]


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _reachable(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _linux_ipv4s() -> list[str]:
    """Each interface's IPv4 address, asked of the kernel (no packet is sent)."""
    import fcntl

    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[: IFNAMSIZ - 1])
            try:
                reply = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # an interface without an IPv4 address
                continue
            found.append(socket.inet_ntoa(reply[20:24]))  # struct ifreq's sockaddr_in address
    return found


def _resolved_ipv4s() -> list[str]:
    """Elsewhere: the addresses the host's own name resolves to."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]
