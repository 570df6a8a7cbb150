"""The base of commands and events: small immutable records with value equality.

Fields are declared ``Final`` (mypy refuses assignment; compiled by mypyc, the attribute is
read-only at run time too) and listed in ``__match_args__``, which also lets callers
``match`` on them. See docs/adr/0001-records-for-commands-and-events.md.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Record:
    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__match_args__])

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__match_args__}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        assert isinstance(other, Record)
        return self.values() == other.values()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__name__}({fields})"
