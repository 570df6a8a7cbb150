"""Saving a registry to SQLite and PostgreSQL and loading it back (exchange.db.registry_store),
the constraints of the tables, and the Alembic migration that creates them."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, UniqueConstraint, event, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from exchange.db import (
    MarketNotFoundError,
    StoreConflictError,
    StoreIntegrityError,
    load_operation,
    load_registry,
    save_registry,
    session_factory,
)
from exchange.db import tables as t
from registry_sim import (
    ISSUANCE,
    Account,
    AccountId,
    AccountKind,
    Done,
    Project,
    Refused,
    Registry,
    RegistryCode,
    Result,
    RuleSet,
    UnitCode,
    UnitKind,
    cea,
    load_rules,
    offset_unit,
)
from registry_sim.ops import (
    AllocateByIntensity,
    Assess,
    Cancel,
    Freeze,
    Hold,
    IssueAllowances,
    IssueOffsets,
    Op,
    OpenAccount,
    PreAllocate,
    RecordEmissions,
    RecordNetSales,
    RegisterProject,
    ReleaseHold,
    Surrender,
    Transfer,
    TrueUpAllocation,
    Unfreeze,
    WithdrawSurrender,
)
from tests.integration.conftest import Database

RULES = load_rules("cn_national")
MARKET = "class-2025-a"

POWER = AccountId("E:POWER")  # a gas-free power plant in Guangdong
STEEL = AccountId("E:STEEL")  # a steel works in Hubei
INVESTOR = AccountId("P:INVESTOR")
FOREST = Project(
    "CCER-2024-001",
    UnitKind.CCER,
    "forestry_sink",
    "Yunnan",
    dt.date(2023, 1, 1),
    dt.date(2024, 3, 1),  # after 2024-01-22: eligible
    False,
)
CCER = offset_unit(FOREST, 2024).code
CEA24 = cea(2024).code
CEA25 = cea(2025).code

SCENARIO: tuple[Op, ...] = (
    OpenAccount(
        "open-power", Account(POWER, AccountKind.COVERED_ENTITY, "华能电厂", "power", "GD")
    ),
    OpenAccount("open-steel", Account(STEEL, AccountKind.COVERED_ENTITY, "宝钢", "steel", "HB")),
    OpenAccount("open-investor", Account(INVESTOR, AccountKind.PARTICIPANT, "Investor")),
    RegisterProject("register-forest", FOREST),
    RecordEmissions("emissions-power-2023", POWER, 2023, 100_000),
    RecordEmissions("emissions-power-2024", POWER, 2024, 120_000),
    PreAllocate("pre-power-2024", POWER, 2024),  # 70 % of 100,000
    TrueUpAllocation("true-up-power-2024", POWER, 2024, 100_000, "0.85", ("1.0", "0.98")),
    IssueOffsets("issue-forest", INVESTOR, FOREST.project_id, 2024, 10_000),
    IssueAllowances("auction-1", INVESTOR, 2024, 20_000),
    Transfer("sell-ccer", INVESTOR, POWER, CCER, 5_000),
    Transfer("sell-cea", INVESTOR, POWER, CEA24, 10_000),
    Freeze("freeze-1", POWER, CEA24, 1_000, "(2025) 京01执123号"),
    Unfreeze("unfreeze-1", POWER, CEA24, 400, "(2025) 京01执123号"),
    Hold("hold-1", INVESTOR, CEA24, 2_000),
    ReleaseHold("release-1", INVESTOR, CEA24, 500),
    Surrender("surrender-1", POWER, 2024, ((CCER, 5_000), (CEA24, 50_000)), dt.date(2025, 6, 1)),
    WithdrawSurrender("withdraw-1", POWER, 2024),
    Surrender("surrender-2", POWER, 2024, ((CCER, 5_000), (CEA24, 100_000)), dt.date(2025, 7, 1)),
    Assess("assess-power-2024", POWER, 2024, 9_000, dt.date(2025, 12, 31)),  # 15,000 t short
    Cancel("cancel-1", INVESTOR, CCER, 1_000, "北京马拉松 2025", "carbon-neutral event"),
    RecordEmissions("emissions-steel-2024", STEEL, 2024, 50_000),
    AllocateByIntensity("intensity-steel-2024", STEEL, 2024, 200),
    RecordNetSales("net-sales-steel", STEEL, 3_000),
    Surrender("surrender-steel", STEEL, 2024, ((CEA24, 20_000),), dt.date(2025, 9, 1)),
    PreAllocate("pre-power-2025", POWER, 2025),  # less the 15,000 t deduction owed
)
BY_ID = {op.op_id: op for op in SCENARIO}
REFUSED = Transfer("too-much", INVESTOR, POWER, CEA24, 10**9)


def build_registry() -> tuple[Registry, dict[str, Result]]:
    """The scenario's registry and each operation's result."""
    registry = Registry(RULES)
    results: dict[str, Result] = {}
    for op in SCENARIO:
        result = registry.apply(op)
        assert isinstance(result, Done), result
        results[op.op_id] = result
    refused = registry.apply(REFUSED)
    assert isinstance(refused, Refused)
    assert refused.code is RegistryCode.INSUFFICIENT_UNITS
    return registry, results


async def _in_transaction(
    engine: AsyncEngine, work: Callable[[AsyncSession], Awaitable[Any]]
) -> Any:
    async with session_factory(engine).begin() as session:
        return await work(session)


async def save(engine: AsyncEngine, registry: Registry, market_id: str = MARKET) -> None:
    async with session_factory(engine).begin() as session:
        await save_registry(session, market_id, registry)


async def load(engine: AsyncEngine, market_id: str = MARKET, rules: RuleSet = RULES) -> Registry:
    async with session_factory(engine)() as session:
        return await load_registry(session, market_id, rules)


async def dump(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary key order."""
    out = {}
    async with engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in await conn.execute(query)]
    return out


# ---------------------------------------------------------------------- round trip


def test_a_saved_registry_loads_with_the_same_state_hash(database: Database) -> None:
    registry, _ = build_registry()

    async def scenario() -> Registry:
        async with database.engine() as engine:
            await save(engine, registry)
            return await load(engine)

    loaded = asyncio.run(scenario())
    assert loaded.state_hash() == registry.state_hash()
    assert loaded.export_state() == registry.export_state()
    assert loaded.holdings(POWER) == registry.holdings(POWER)
    assert loaded.deduction_owed(POWER) == 0  # the 2025 pre-allocation took it all
    record = loaded.record(POWER, 2024)
    assert record is not None
    assert (record.shortfall_t, record.penalty_fen) == (15_000, 5 * 9_000 * 15_000)
    assert loaded.compliance_status(STEEL, 2024).pending_t == 20_000


def test_saving_again_writes_nothing(database: Database) -> None:
    registry, _ = build_registry()

    async def scenario() -> tuple[Any, Any, list[str]]:
        async with database.engine() as engine:
            await save(engine, registry)
            before = await dump(engine)
            writes: list[str] = []

            def record(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
                if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
                    writes.append(statement)

            event.listen(engine.sync_engine, "before_cursor_execute", record)
            await save(engine, registry)
            event.remove(engine.sync_engine, "before_cursor_execute", record)
            return before, await dump(engine), writes

    before, after, writes = asyncio.run(scenario())
    assert writes == []
    assert after == before
    assert len(before["postings"]) == len(registry.ledger.postings())
    assert len(before["operations"]) == len(SCENARIO)


def test_saving_after_more_operations_brings_every_table_up_to_date(database: Database) -> None:
    registry, _ = build_registry()
    later: list[Op] = [
        WithdrawSurrender("withdraw-steel", STEEL, 2024),  # surrender rows go
        Transfer("sell-all", INVESTOR, STEEL, CEA24, 8_500),  # a holding goes to zero
        ReleaseHold("release-rest", INVESTOR, CEA24, 1_500),
        RecordNetSales("net-sales-steel-2", STEEL, 4_000),  # a row changes
        Surrender("surrender-steel-2", STEEL, 2024, ((CEA24, 30_000),), dt.date(2025, 10, 1)),
        Assess("assess-steel-2024", STEEL, 2024, 9_500, dt.date(2025, 12, 31)),
    ]

    async def scenario() -> tuple[Registry, Any]:
        async with database.engine() as engine:
            await save(engine, registry)
            for op in later:
                assert isinstance(registry.apply(op), Done), op
            await save(engine, registry)
            return await load(engine), await dump(engine)

    loaded, rows = asyncio.run(scenario())
    assert loaded.state_hash() == registry.state_hash()
    assert loaded.export_state() == registry.export_state()
    assert [r[1:3] for r in rows["surrenders"] if r[1] == STEEL] == [(STEEL, 2024)]
    assert (MARKET, INVESTOR, CEA24, "held", 1_500) not in rows["holdings"]


def test_a_repeated_operation_after_reload_gets_the_original_result(database: Database) -> None:
    registry, results = build_registry()

    async def scenario() -> tuple[Registry, Any]:
        async with database.engine() as engine:
            await save(engine, registry)
            loaded = await load(engine)
            stored = await _in_transaction(
                engine, lambda s: load_operation(s, MARKET, "assess-power-2024")
            )
            return loaded, stored

    loaded, stored = asyncio.run(scenario())
    postings = len(loaded.ledger.postings())
    for op in SCENARIO:
        assert loaded.apply(op) == results[op.op_id], op.op_id
    assert len(loaded.ledger.postings()) == postings
    assert loaded.state_hash() == registry.state_hash()
    assert stored == (BY_ID["assess-power-2024"], results["assess-power-2024"])
    reused = loaded.apply(Transfer("sell-cea", INVESTOR, POWER, CEA24, 1))
    assert isinstance(reused, Refused)
    assert reused.code is RegistryCode.OP_ID_CONFLICT


def test_an_unknown_operation_is_not_found(database: Database) -> None:
    async def scenario() -> Any:
        async with database.engine() as engine:
            await save(engine, Registry(RULES))
            return await _in_transaction(engine, lambda s: load_operation(s, MARKET, "nope"))

    assert asyncio.run(scenario()) is None


# ---------------------------------------------------------------------- refusals of the store


def test_loading_refuses_a_missing_market_and_another_rule_set(database: Database) -> None:
    async def scenario() -> None:
        async with database.engine() as engine:
            await save(engine, Registry(RULES))
            with pytest.raises(MarketNotFoundError):
                await load(engine, "no-such-market")
            with pytest.raises(StoreConflictError, match="guangdong_pilot"):
                await load(engine, rules=load_rules("guangdong_pilot"))

    asyncio.run(scenario())


def test_saving_refuses_to_overwrite_another_history(database: Database) -> None:
    registry, _ = build_registry()
    other = Registry(RULES)
    other.apply(SCENARIO[0])

    async def scenario() -> None:
        async with database.engine() as engine:
            await save(engine, registry)
            with pytest.raises(StoreConflictError):
                await save(engine, other)
            with pytest.raises(StoreConflictError, match="rule set"):
                await save(engine, Registry(load_rules("guangdong_pilot")))
            assert (await load(engine)).state_hash() == registry.state_hash()

    asyncio.run(scenario())


def test_loading_detects_holdings_that_disagree_with_the_postings(database: Database) -> None:
    registry, _ = build_registry()

    async def scenario() -> None:
        async with database.engine() as engine:
            await save(engine, registry)
            async with engine.begin() as conn:
                h = t.holdings.c
                await conn.execute(
                    update(t.holdings)
                    .where(h.account_id == POWER, h.unit == CEA25, h.state == "available")
                    .values(qty_t=h.qty_t + 1)
                )
            with pytest.raises(StoreIntegrityError, match="holdings"):
                await load(engine)

    asyncio.run(scenario())


# ---------------------------------------------------------------------- constraints


async def _market_with_account(conn: AsyncConnection) -> None:
    await conn.execute(
        insert(t.markets), {"market_id": "m", "rules": "cn_national", "state_hash": ""}
    )
    account = {"market_id": "m", "kind": "covered_entity", "name": "", "sector": "", "province": ""}
    await conn.execute(
        insert(t.accounts),
        [
            {**account, "account_id": POWER, "gas_fired": False},
            {**account, "account_id": ISSUANCE, "kind": "issuance", "gas_fired": False},
        ],
    )
    unit = {"market_id": "m", "code": CEA24, "kind": "CEA", "vintage": 2024, "project_id": None}
    await conn.execute(insert(t.unit_types), unit)


def test_a_negative_holding_is_refused_outside_the_issuance_account(database: Database) -> None:
    holding = {"market_id": "m", "unit": CEA24, "state": "available"}

    async def scenario() -> None:
        async with database.engine() as engine:
            async with engine.begin() as conn:
                await _market_with_account(conn)
                await conn.execute(
                    insert(t.holdings), {**holding, "account_id": ISSUANCE, "qty_t": -5}
                )
            async with engine.connect() as conn:
                with pytest.raises(IntegrityError):
                    await conn.execute(
                        insert(t.holdings), {**holding, "account_id": POWER, "qty_t": -1}
                    )

    asyncio.run(scenario())


def test_an_operation_id_is_stored_once(database: Database) -> None:
    row = {"market_id": "m", "op_id": "op-1", "op_type": "Hold", "op": {}, "result": {}}

    async def scenario() -> None:
        async with database.engine() as engine:
            async with engine.begin() as conn:
                await _market_with_account(conn)
                await conn.execute(insert(t.operations), {**row, "seq": 1})
            async with engine.connect() as conn:
                with pytest.raises(IntegrityError):
                    await conn.execute(insert(t.operations), {**row, "seq": 2})

    asyncio.run(scenario())


def test_a_posting_id_is_stored_once(database: Database) -> None:
    op = {"market_id": "m", "op_id": "op-1", "seq": 1, "op_type": "Hold", "op": {}, "result": {}}
    posting = {
        "market_id": "m",
        "posting_id": 1,
        "op_id": "op-1",
        "unit": CEA24,
        "qty_t": 5,
        "from_account": ISSUANCE,
        "from_state": "available",
        "to_account": POWER,
        "to_state": "available",
    }

    async def scenario() -> None:
        async with database.engine() as engine:
            async with engine.begin() as conn:
                await _market_with_account(conn)
                await conn.execute(insert(t.operations), op)
                await conn.execute(insert(t.postings), posting)
            async with engine.connect() as conn:
                with pytest.raises(IntegrityError):
                    await conn.execute(insert(t.postings), {**posting, "qty_t": 6})

    asyncio.run(scenario())


# ---------------------------------------------------------------------- the migration


def test_the_migration_creates_the_tables_of_tables_py(database: Database) -> None:
    def schema(sync_conn: Connection) -> tuple[dict[str, Any], list[Any]]:
        inspector = inspect(sync_conn)
        tables = {
            name: (
                [c["name"] for c in inspector.get_columns(name)],
                inspector.get_pk_constraint(name)["constrained_columns"],
                sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
                sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in inspector.get_foreign_keys(name)
                ),
            )
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
        return tables, compare_metadata(MigrationContext.configure(sync_conn), t.metadata)

    async def scenario() -> tuple[dict[str, Any], list[Any]]:
        async with database.engine() as engine, engine.connect() as conn:
            return await conn.run_sync(schema)

    migrated, differences = asyncio.run(scenario())
    expected = {
        table.name: (
            [c.name for c in table.columns],
            [c.name for c in table.primary_key.columns],
            sorted(
                tuple(c.name for c in u.columns)
                for u in table.constraints
                if isinstance(u, UniqueConstraint)
            ),
            sorted(
                (tuple(f.column_keys), f.referred_table.name) for f in table.foreign_key_constraints
            ),
        )
        for table in t.metadata.sorted_tables
    }
    assert migrated == expected
    assert differences == []


# ---------------------------------------------------------------------- any history


ENTITIES = (POWER, STEEL, INVESTOR)
UNITS = (CEA24, CEA25, CCER)
step = st.tuples(
    st.sampled_from(
        [
            "issue",
            "offsets",
            "transfer",
            "freeze",
            "unfreeze",
            "hold",
            "release",
            "emissions",
            "pre_allocate",
            "intensity",
            "net_sales",
            "surrender",
            "withdraw",
            "assess",
            "cancel",
            "repeat",
            "save",
        ]
    ),
    st.sampled_from(ENTITIES),
    st.sampled_from(ENTITIES),
    st.sampled_from(UNITS),
    st.integers(1, 20_000),
    st.sampled_from([2024, 2025]),
)
_markets = itertools.count()


def _op(i: int, step: tuple[str, AccountId, AccountId, UnitCode, int, int], done: list[Op]) -> Op:
    kind, a, b, unit, qty, year = step
    on = dt.date(year + 1, 6, 1)
    ops: dict[str, Callable[[str], Op]] = {
        "issue": lambda op_id: IssueAllowances(op_id, a, year, qty),
        "offsets": lambda op_id: IssueOffsets(op_id, a, FOREST.project_id, 2024, qty),
        "transfer": lambda op_id: Transfer(op_id, a, b, unit, qty),
        "freeze": lambda op_id: Freeze(op_id, a, unit, qty, "ref"),
        "unfreeze": lambda op_id: Unfreeze(op_id, a, unit, qty, "ref"),
        "hold": lambda op_id: Hold(op_id, a, unit, qty),
        "release": lambda op_id: ReleaseHold(op_id, a, unit, qty),
        "emissions": lambda op_id: RecordEmissions(op_id, a, year, qty * 3),
        "pre_allocate": lambda op_id: PreAllocate(op_id, a, year),
        "intensity": lambda op_id: AllocateByIntensity(op_id, a, year, qty % 601 - 300),
        "net_sales": lambda op_id: RecordNetSales(op_id, a, qty),
        "surrender": lambda op_id: Surrender(op_id, a, year, ((unit, qty),), on),
        "withdraw": lambda op_id: WithdrawSurrender(op_id, a, year),
        "assess": lambda op_id: Assess(op_id, a, year, qty, dt.date(year + 1, 12, 31)),
        "cancel": lambda op_id: Cancel(op_id, a, unit, qty, "someone", "something"),
    }
    if kind == "repeat" and done:
        return done[qty % len(done)]
    return ops.get(kind, ops["issue"])(f"op-{i}")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, max_size=40))
def test_any_history_saved_in_steps_loads_back_equal(
    database: Database, steps: list[tuple[str, AccountId, AccountId, UnitCode, int, int]]
) -> None:
    market_id = f"market-{next(_markets)}"  # the examples share the test's database
    registry, _ = build_registry()
    done = list(SCENARIO)

    async def scenario() -> Registry:
        async with database.engine() as engine:
            await save(engine, registry, market_id)
            for i, s in enumerate(steps):
                if s[0] == "save":
                    await save(engine, registry, market_id)
                    continue
                op = _op(i, s, done)
                if isinstance(registry.apply(op), Done):
                    done.append(op)
            await save(engine, registry, market_id)
            return await load(engine, market_id)

    loaded = asyncio.run(scenario())
    assert loaded.export_state() == registry.export_state()
    assert loaded.state_hash() == registry.state_hash()
