"""``OpenSockets``: a revocation closes the sockets of the revoked keys of its market only."""

from __future__ import annotations

from exchange.api.open_sockets import OpenSockets


class Socket:
    def __init__(self) -> None:
        self.revoked = 0

    def revoke(self) -> None:
        self.revoked += 1


def test_a_revocation_closes_the_sockets_of_its_keys_in_its_market() -> None:
    sockets = OpenSockets()
    mine, mine_too, same_prefix_elsewhere, wide, other = (Socket() for _ in range(5))
    sockets.add("abc123" + "0" * 58, "demo", mine)
    sockets.add("abc123" + "0" * 58, "demo", mine_too)  # the same key, a second socket
    sockets.add("abc123" + "1" * 58, "class1", same_prefix_elsewhere)
    sockets.add("abc123" + "2" * 58, "*", wide)  # an exchange-wide key
    sockets.add("fff999" + "0" * 58, "demo", other)
    assert len(sockets) == 5
    sockets.revoked("demo", "ABC123")
    assert (mine.revoked, mine_too.revoked) == (1, 1)
    assert (same_prefix_elsewhere.revoked, wide.revoked, other.revoked) == (0, 0, 0)
    sockets.remove("abc123" + "0" * 58, mine)
    sockets.remove("abc123" + "0" * 58, mine_too)
    sockets.remove("abc123" + "0" * 58, mine_too)  # twice: nothing
    assert len(sockets) == 3
    sockets.revoked("demo", "abc123")
    assert mine.revoked == 1  # gone: not told again
