"""Store a market's registry in the database and load it back.

``save_registry`` writes the registry's whole state (``Registry.export_state()``) into the tables
of ``exchange.db.tables``: it appends the operations and postings not stored yet, brings the other
tables to the registry's state, and records the registry's ``state_hash()``. Saving an unchanged
registry again writes nothing. ``load_registry`` reads the tables back into a ``Registry`` with
the same ``state_hash()``, and checks it against the stored one and the holdings against the
postings. Both run inside the caller's transaction: commit it to make a save durable.

Operations are stored with their result (details and the ids of their postings), so a reloaded
registry answers a repeated operation with the original result, and ``load_operation`` answers
it straight from the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar, cast, get_args

from sqlalchemy import Column, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from exchange.db import tables as t
from registry_sim.ledger import Posting
from registry_sim.model import (
    Account,
    AccountId,
    AccountKind,
    HoldingState,
    Project,
    UnitCode,
    UnitKind,
    UnitType,
)
from registry_sim.ops import Op
from registry_sim.outcomes import ComplianceRecord
from registry_sim.registry import (
    Cancellation,
    Done,
    Registry,
    RegistryState,
    SurrenderEntry,
)
from registry_sim.rules import RuleSet

Row = dict[str, Any]
T = TypeVar("T")


class RegistryStoreError(Exception):
    """The database cannot take or give the registry asked for."""


class MarketNotFoundError(RegistryStoreError, LookupError):
    """No registry is stored for that market."""


class StoreConflictError(RegistryStoreError):
    """What is stored contradicts the registry being saved (another registry's history, or
    another rule set): nothing is overwritten."""


class StoreIntegrityError(RegistryStoreError):
    """The stored rows do not make up a registry a sequence of operations could have built."""


# ---------------------------------------------------------------------- values as JSON

_OP_CLASSES: tuple[type, ...] = get_args(Op)
_DATACLASSES: dict[str, type] = {
    cls.__name__: cls for cls in (*_OP_CLASSES, Account, Project, UnitType, ComplianceRecord)
}
_ENUMS: dict[str, type[StrEnum]] = {
    cls.__name__: cls for cls in (AccountKind, HoldingState, UnitKind)
}


def encode(value: object) -> Any:
    """``value`` (an operation, or a result's details) as JSON data that ``decode`` turns back
    into an equal value of the same types: enums, dates, tuples and the registry's dataclasses
    are tagged with ``"$"``."""
    if isinstance(value, StrEnum):  # before str: a member is a str too
        name = type(value).__name__
        if _ENUMS.get(name) is not type(value):
            raise TypeError(f"cannot store the enum {value!r}")
        return {"$": name, "value": value.value}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"$": "date", "value": value.isoformat()}
    if isinstance(value, tuple):
        return {"$": "tuple", "items": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"cannot store a mapping with keys other than text: {value!r}")
        return {"$": "dict", "items": {k: encode(v) for k, v in value.items()}}
    name = type(value).__name__
    if _DATACLASSES.get(name) is type(value) and dataclasses.is_dataclass(value):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$": name, **fields}
    raise TypeError(f"cannot store {value!r}")


def decode(data: Any) -> Any:
    """The value ``encode`` gave ``data`` for."""
    if data is None or isinstance(data, bool | int | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        tag = data.get("$")
        if tag == "date":
            return dt.date.fromisoformat(data["value"])
        if tag == "tuple":
            return tuple(decode(v) for v in data["items"])
        if tag == "dict":
            return {k: decode(v) for k, v in data["items"].items()}
        if isinstance(tag, str) and tag in _ENUMS:
            return _ENUMS[tag](data["value"])
        if isinstance(tag, str) and tag in _DATACLASSES:
            return _DATACLASSES[tag](**{k: decode(v) for k, v in data.items() if k != "$"})
    raise StoreIntegrityError(f"stored value {data!r} is not one carbonx wrote")


def _decode_op(data: Any) -> Op:
    op = decode(data)
    if not isinstance(op, _OP_CLASSES):
        raise StoreIntegrityError(f"stored operation {data!r} is not an operation")
    return cast(Op, op)


# ---------------------------------------------------------------------- rows


def _account_row(market_id: str, a: Account) -> Row:
    return {
        "market_id": market_id,
        "account_id": a.account_id,
        "kind": a.kind.value,
        "name": a.name,
        "sector": a.sector,
        "province": a.province,
        "gas_fired": a.gas_fired,
    }


def _account(r: Mapping[str, Any]) -> Account:
    return Account(
        AccountId(r["account_id"]),
        AccountKind(r["kind"]),
        r["name"],
        r["sector"],
        r["province"],
        r["gas_fired"],
    )


def _project_row(market_id: str, p: Project) -> Row:
    return {
        "market_id": market_id,
        "project_id": p.project_id,
        "kind": p.kind.value,
        "methodology": p.methodology,
        "province": p.province,
        "start_date": p.start_date,
        "registration_date": p.registration_date,
        "inside_ets_scope": p.inside_ets_scope,
    }


def _project(r: Mapping[str, Any]) -> Project:
    return Project(
        r["project_id"],
        UnitKind(r["kind"]),
        r["methodology"],
        r["province"],
        r["start_date"],
        r["registration_date"],
        r["inside_ets_scope"],
    )


def _unit_row(market_id: str, u: UnitType) -> Row:
    return {
        "market_id": market_id,
        "code": u.code,
        "kind": u.kind.value,
        "vintage": u.vintage,
        "project_id": u.project_id,
    }


def _unit(r: Mapping[str, Any]) -> UnitType:
    return UnitType(UnitCode(r["code"]), UnitKind(r["kind"]), r["vintage"], r["project_id"])


def _posting_row(market_id: str, p: Posting) -> Row:
    return {
        "market_id": market_id,
        "posting_id": p.posting_id,
        "op_id": p.op_id,
        "unit": p.unit,
        "qty_t": p.qty_t,
        "from_account": p.from_account,
        "from_state": p.from_state.value,
        "to_account": p.to_account,
        "to_state": p.to_state.value,
    }


def _posting(r: Mapping[str, Any]) -> Posting:
    return Posting(
        r["posting_id"],
        r["op_id"],
        UnitCode(r["unit"]),
        r["qty_t"],
        AccountId(r["from_account"]),
        HoldingState(r["from_state"]),
        AccountId(r["to_account"]),
        HoldingState(r["to_state"]),
    )


def _operation_row(market_id: str, seq: int, op: Op, done: Done) -> Row:
    return {
        "market_id": market_id,
        "op_id": op.op_id,
        "seq": seq,
        "op_type": type(op).__name__,
        "op": encode(op),
        "result": {
            "details": encode(dict(done.details)),
            "postings": [p.posting_id for p in done.postings],
        },
    }


def _operation(r: Mapping[str, Any], postings: Mapping[int, Posting]) -> tuple[Op, Done]:
    op = _decode_op(r["op"])
    result = r["result"]
    try:
        done = Done(
            r["op_id"],
            tuple(postings[i] for i in result["postings"]),
            decode(result["details"]),
        )
    except (KeyError, TypeError) as missing:
        raise StoreIntegrityError(f"result of operation {r['op_id']!r}: {missing!r}") from None
    return op, done


def _surrender_rows(market_id: str, entries: Iterable[SurrenderEntry]) -> list[Row]:
    rows: list[Row] = []
    counts: dict[tuple[str, int], int] = {}
    for s in entries:
        entry = counts.get((s.account_id, s.year), 0)
        counts[(s.account_id, s.year)] = entry + 1
        rows.append(
            {
                "market_id": market_id,
                "account_id": s.account_id,
                "year": s.year,
                "entry": entry,
                "unit": s.unit,
                "qty_t": s.qty_t,
                "local": s.local,
                "retired": s.retired,
            }
        )
    return rows


def _record_row(market_id: str, c: ComplianceRecord) -> Row:
    return {"market_id": market_id, **dataclasses.asdict(c)}


def _cancellation_row(market_id: str, seq: int, c: Cancellation) -> Row:
    return {"market_id": market_id, "seq": seq, **dataclasses.asdict(c)}


def _state_rows(market_id: str, registry: Registry, state: RegistryState) -> dict[Table, list[Row]]:
    """The rows of every table but the journal (operations, postings), parents first."""
    m = market_id
    return {
        t.accounts: [_account_row(m, a) for a in state.accounts],
        t.projects: [_project_row(m, p) for p in state.projects],
        t.unit_types: [_unit_row(m, u) for u in state.unit_types],
        t.holdings: [
            {"market_id": m, "account_id": a, "unit": u, "state": s.value, "qty_t": q}
            for (a, u, s), q in sorted(registry.ledger.balances().items())
        ],
        t.verified_emissions: [
            {"market_id": m, "account_id": a, "year": y, "verified_t": v}
            for a, y, v in state.verified
        ],
        t.net_sales: [
            {"market_id": m, "account_id": a, "net_sales_t": v} for a, v in state.net_sales
        ],
        t.allocations: [
            {"market_id": m, "account_id": a, "year": y, "allocated_t": v}
            for a, y, v in state.allocated
        ],
        t.deductions: [
            {"market_id": m, "account_id": a, "owed_t": v} for a, v in state.deduction_owed
        ],
        t.surrenders: _surrender_rows(m, state.surrenders),
        t.compliance_records: [_record_row(m, c) for c in state.records],
        t.cancellations: [_cancellation_row(m, i, c) for i, c in enumerate(state.cancellations, 1)],
    }


# Tables whose rows never change once written; a difference is another registry's history.
_WRITE_ONCE = frozenset(
    {
        t.accounts,
        t.projects,
        t.unit_types,
        t.verified_emissions,
        t.compliance_records,
        t.cancellations,
    }
)


# ---------------------------------------------------------------------- save


async def save_registry(session: AsyncSession, market_id: str, registry: Registry) -> None:
    """Store ``registry`` as the registry of ``market_id``, in the session's transaction.

    Raises ``StoreConflictError`` (having changed nothing the caller should keep: roll back)
    if the market already stores another rule set or a history the registry does not have.
    """
    conn = await session.connection()
    state = registry.export_state()
    state_hash = registry.state_hash()
    market = (
        (await conn.execute(select(t.markets).where(t.markets.c.market_id == market_id)))
        .mappings()
        .one_or_none()
    )
    if market is None:
        await conn.execute(
            insert(t.markets),
            {"market_id": market_id, "rules": state.rules, "state_hash": state_hash},
        )
    elif market["rules"] != state.rules:
        raise StoreConflictError(
            f"market {market_id!r} stores rule set {market['rules']!r}, not {state.rules!r}"
        )
    rows = _state_rows(market_id, registry, state)
    for table in (t.accounts, t.projects, t.unit_types):
        await _sync(conn, table, market_id, rows.pop(table))
    await _append(
        conn,
        t.operations.c.seq,
        market_id,
        state.operations,
        lambda seq, done: _operation_row(market_id, seq, *done),
    )
    await _append(
        conn,
        t.postings.c.posting_id,
        market_id,
        state.postings,
        lambda _, posting: _posting_row(market_id, posting),
    )
    for table, table_rows in rows.items():
        await _sync(conn, table, market_id, table_rows)
    if market is not None and market["state_hash"] != state_hash:
        await conn.execute(
            update(t.markets)
            .where(t.markets.c.market_id == market_id)
            .values(state_hash=state_hash)
        )


async def _append(
    conn: AsyncConnection,
    number: Column[int],
    market_id: str,
    entries: Sequence[T],
    row: Callable[[int, T], Row],
) -> None:
    """Append the journal ``entries`` (numbered 1, 2, ... in the ``number`` column) that are not
    stored yet, after checking that the stored ones are the first of them (by their count and
    the last one). ``row(n, entry)`` is entry ``n``'s row."""
    table = number.table
    where = table.c.market_id == market_id
    count, last = (await conn.execute(select(func.count(), func.max(number)).where(where))).one()
    if count != (last or 0) or count > len(entries):
        raise StoreConflictError(
            f"{table.name} of market {market_id!r}: {count} stored up to number {last}, "
            f"the registry has {len(entries)}"
        )
    if count:
        query = select(table).where(where, number == last)
        stored = (await conn.execute(query)).mappings().one()
        if dict(stored) != row(count, entries[count - 1]):
            raise StoreConflictError(
                f"{table.name} of market {market_id!r}: number {last} differs from the registry's"
            )
    if len(entries) > count:
        new = [row(n, entry) for n, entry in enumerate(entries[count:], count + 1)]
        await conn.execute(insert(table), new)


async def _sync(conn: AsyncConnection, table: Table, market_id: str, rows: list[Row]) -> None:
    """Make ``table``'s rows of the market equal ``rows``, by primary key."""
    keys = [c.name for c in table.primary_key.columns]
    query = select(table).where(table.c.market_id == market_id)
    stored = {tuple(r[k] for k in keys): dict(r) for r in (await conn.execute(query)).mappings()}
    wanted = {tuple(r[k] for k in keys): r for r in rows}
    added = [r for k, r in wanted.items() if k not in stored]
    changed = [r for k, r in wanted.items() if k in stored and stored[k] != r]
    gone = [k for k in stored if k not in wanted]
    if table in _WRITE_ONCE and (changed or gone):
        raise StoreConflictError(
            f"{table.name} of market {market_id!r}: stored rows differ from the registry's "
            f"({len(changed)} changed, {len(gone)} missing)"
        )
    match_key = [table.c[k] == bindparam(_key(k)) for k in keys]
    if gone:
        await conn.execute(
            delete(table).where(*match_key),
            [{_key(k): v for k, v in zip(keys, key, strict=True)} for key in gone],
        )
    if changed:
        await conn.execute(
            update(table).where(*match_key),
            [{_key(k) if k in keys else k: v for k, v in r.items()} for r in changed],
        )
    if added:
        await conn.execute(insert(table), added)


def _key(column: str) -> str:
    """The name of the parameter matching a key column (not the column's own name)."""
    return f"key_{column}"


# ---------------------------------------------------------------------- load


async def _rows(conn: AsyncConnection, table: Table, market_id: str) -> list[Row]:
    order = [table.c[c.name] for c in table.primary_key.columns]
    query = select(table).where(table.c.market_id == market_id).order_by(*order)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def load_registry(session: AsyncSession, market_id: str, rules: RuleSet) -> Registry:
    """The registry stored for ``market_id``, under ``rules`` (the rule set it was saved with).

    Raises ``MarketNotFoundError`` if none is stored, ``StoreConflictError`` if it was saved
    under another rule set, ``StoreIntegrityError`` if the rows do not add up (its state hash
    differs from the stored one, or its holdings from the postings)."""
    conn = await session.connection()
    market = (
        (await conn.execute(select(t.markets).where(t.markets.c.market_id == market_id)))
        .mappings()
        .one_or_none()
    )
    if market is None:
        raise MarketNotFoundError(f"no registry is stored for market {market_id!r}")
    if market["rules"] != rules.name:
        raise StoreConflictError(
            f"market {market_id!r} was saved under rule set {market['rules']!r}, not {rules.name!r}"
        )
    postings = [_posting(r) for r in await _rows(conn, t.postings, market_id)]
    by_id = {p.posting_id: p for p in postings}
    operations = sorted(await _rows(conn, t.operations, market_id), key=lambda r: r["seq"])
    cancellations = sorted(await _rows(conn, t.cancellations, market_id), key=lambda r: r["seq"])
    state = RegistryState(
        rules=market["rules"],
        accounts=tuple(_account(r) for r in await _rows(conn, t.accounts, market_id)),
        projects=tuple(_project(r) for r in await _rows(conn, t.projects, market_id)),
        unit_types=tuple(_unit(r) for r in await _rows(conn, t.unit_types, market_id)),
        postings=tuple(postings),
        verified=tuple(
            (AccountId(r["account_id"]), r["year"], r["verified_t"])
            for r in await _rows(conn, t.verified_emissions, market_id)
        ),
        net_sales=tuple(
            (AccountId(r["account_id"]), r["net_sales_t"])
            for r in await _rows(conn, t.net_sales, market_id)
        ),
        allocated=tuple(
            (AccountId(r["account_id"]), r["year"], r["allocated_t"])
            for r in await _rows(conn, t.allocations, market_id)
        ),
        deduction_owed=tuple(
            (AccountId(r["account_id"]), r["owed_t"])
            for r in await _rows(conn, t.deductions, market_id)
        ),
        surrenders=tuple(
            SurrenderEntry(
                AccountId(r["account_id"]),
                r["year"],
                UnitCode(r["unit"]),
                r["qty_t"],
                r["local"],
                r["retired"],
            )
            for r in await _rows(conn, t.surrenders, market_id)
        ),
        records=tuple(
            ComplianceRecord(**{k: v for k, v in r.items() if k != "market_id"})
            for r in await _rows(conn, t.compliance_records, market_id)
        ),
        cancellations=tuple(
            Cancellation(**{k: v for k, v in r.items() if k not in ("market_id", "seq")})
            for r in cancellations
        ),
        operations=tuple(_operation(r, by_id) for r in operations),
    )
    try:
        registry = Registry.from_state(rules, state)
    except ValueError as error:
        raise StoreIntegrityError(f"market {market_id!r}: {error}") from None
    holdings = {
        (AccountId(r["account_id"]), UnitCode(r["unit"]), HoldingState(r["state"])): r["qty_t"]
        for r in await _rows(conn, t.holdings, market_id)
    }
    if holdings != registry.ledger.balances():
        raise StoreIntegrityError(f"market {market_id!r}: holdings differ from the postings")
    if registry.state_hash() != market["state_hash"]:
        raise StoreIntegrityError(f"market {market_id!r}: state hash differs from the saved one")
    return registry


async def load_operation(
    session: AsyncSession, market_id: str, op_id: str
) -> tuple[Op, Done] | None:
    """The stored operation ``op_id`` of the market and its result, or ``None``: what the
    registry answers when the operation is repeated."""
    conn = await session.connection()
    where = (t.operations.c.market_id == market_id, t.operations.c.op_id == op_id)
    row = (await conn.execute(select(t.operations).where(*where))).mappings().one_or_none()
    if row is None:
        return None
    query = select(t.postings).where(
        t.postings.c.market_id == market_id, t.postings.c.op_id == op_id
    )
    postings = [_posting(dict(r)) for r in (await conn.execute(query)).mappings()]
    return _operation(dict(row), {p.posting_id: p for p in postings})
