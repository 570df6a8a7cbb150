"""The class's results and their CSV for the debrief, without a server: a real market made
from the tiny class's scenario, two real trades, a verified, surrendered and assessed seat,
and its row worked out by hand; yuan from fen; the headers and words in both languages."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from exchange import compliance_year
from exchange.classroom.debrief import BOM, CSV_COLUMNS, HEADERS, results_csv, yuan
from exchange.classroom.lifecycle import Phase
from exchange.classroom.setup import ClassScenario
from exchange.classroom.views import RESULT_COLUMNS, results
from exchange.db.trading_activity import Traded
from exchange.sessions import opening
from matching.types import OrderType, Side
from registry_sim.model import AccountId, UnitCode
from registry_sim.ops import Surrender
from settlement.commands import CloseDay, EndOfDay, MarketCommand, PlaceOrder, RegistryCommand
from settlement.market import Market
from tests.classroom.conftest import make_state

YEAR = 2026
CEA = f"CEA{YEAR}"


def accepted(market: Market, commands: list[MarketCommand]) -> None:
    for command in commands:
        outcome = market.apply(command)
        assert outcome.code is None, (command, outcome.code, outcome.details)


def order(account: str, side: Side, qty_t: int, price_fen: int) -> PlaceOrder:
    return PlaceOrder(0, AccountId(account), CEA, side, OrderType.LIMIT, qty_t, price_fen)


@pytest.fixture
def debriefed(scenario: ClassScenario) -> dict[str, dict[str, Any]]:
    """The tiny class after one trading day and S001's year assessed, as ``results`` has it.

    S001 (a cement profile: 4,000 t baseline, 3,600 t allocated, curve 30 + 0.02 a yuan per
    tonne) buys 300 t from S002 at 81.50 and sells 20 t to S003 at 82.00, cuts 1,000 t,
    surrenders 2,800 t of its 3,000 t verified emissions and is assessed: 200 t short at the
    penalty reference price (nothing cleared yet, so CEA2026's reference, 80.00) times 5.
    Then the day clears.
    """
    assert [(s.account_id, s.profile) for s in scenario.seats] == [
        ("S001", "F2"),
        ("S002", "F1"),
        ("S003", "F2"),
    ]
    market = Market(scenario.market_spec("class1"))
    day = scenario.year_days(YEAR)[0]
    accepted(market, [*scenario.setup_commands(), *opening(day)])
    accepted(market, [order("S002", Side.SELL, 300, 8150), order("S001", Side.BUY, 300, 8150)])
    accepted(market, [order("S001", Side.SELL, 20, 8200), order("S003", Side.BUY, 20, 8200)])
    state = make_state(scenario, Phase.ASSESSMENT)
    state.abatement_t = {"S001": 1000}
    firm = scenario.firms["S001"]
    verified = compliance_year.verified_emissions_t(firm.baseline_t, 1000)
    assert verified == 3000
    ops = compliance_year.verification_ops(scenario.loaded, firm, YEAR, verified)
    items = ((UnitCode(CEA), 2800),)
    ops.append(Surrender("surrender:S001", AccountId("S001"), YEAR, items, day))
    accepted(market, [RegistryCommand(0, op) for op in ops])
    assessment = compliance_year.assessment(market, YEAR)
    assert assessment.price.price_fen == 8000
    accepted(market, [RegistryCommand(0, op) for op in assessment.ops])
    accepted(market, [CloseDay(0), EndOfDay(0)])  # the trades settle: cash moves
    # The trade tape as the database would sum it up (the national fees are 0).
    traded = {
        "S001": Traded({CEA: 300}, {CEA: 2_445_000}, {CEA: 20}, {CEA: 164_000}, 0, 2),
        "S002": Traded({}, {}, {CEA: 300}, {CEA: 2_445_000}, 0, 1),
        "S003": Traded({CEA: 20}, {CEA: 164_000}, {}, {}, 0, 1),
    }
    rows = results(market, state, scenario, traded, {CEA: 8146})
    return {r["account_id"]: r for r in rows}


def test_a_seat_s_row_worked_by_hand(debriefed: dict[str, dict[str, Any]]) -> None:
    row = debriefed["S001"]
    assert list(row) == list(RESULT_COLUMNS)
    assert row == {
        "account_id": "S001",
        "name": "Seat 1 (cement, Hubei)",
        "name_zh": "席位 1（水泥，湖北）",
        "seat": 1,
        "role": "seat",
        "year": 2026,
        "assessed": True,
        "complied": False,
        "obligation_t": 3000,
        "surrendered_t": 2800,
        "shortfall_t": 200,
        "penalty_fen": 5 * 8000 * 200,  # 8,000,000
        "trades": 2,
        "volume_t": 320,
        "bought_t": 300,
        "sold_t": 20,
        "fees_fen": 0,
        "cash_start_fen": 200_000_000,
        "cash_fen": 200_000_000 - 300 * 8150 + 20 * 8200,  # 197,719,000
        "cash_change_fen": -2_281_000,
        "pnl_fen": 280 * 8146 - 2_281_000,  # marked at 81.46: -120
        "abated_t": 1000,
        "abatement_cost_fen": 3000 * 1000 + 2 * 1000 * 1000 // 2,  # 4,000,000
        "net_spend_fen": 2_445_000 - 164_000,  # 2,281,000
        "compliance_cost_fen": 2_281_000 + 4_000_000 + 8_000_000,  # 14,281,000
    }
    # Not assessed: no penalty counted yet; a seller's net spend is below zero.
    seller = debriefed["S002"]
    assert (seller["assessed"], seller["penalty_fen"], seller["abated_t"]) == (False, None, None)
    assert seller["compliance_cost_fen"] == seller["net_spend_fen"] == -2_445_000
    assert debriefed["F1"]["compliance_cost_fen"] == 0  # a firm that did nothing yet


def test_the_row_in_the_chinese_csv(debriefed: dict[str, dict[str, Any]]) -> None:
    text = results_csv(list(debriefed.values()), "zh-CN", "CNY")
    assert text.startswith(BOM)
    lines = text.removeprefix(BOM).split("\r\n")
    assert lines[0].split(",") == [
        "账户",
        "名称",
        "席位",
        "角色",
        "履约年度",
        "是否已核定",
        "是否履约",
        "履约义务（吨）",
        "已清缴（吨）",
        "缺口（吨）",
        "罚款（元）",
        "成交笔数",
        "成交量（吨）",
        "买入（吨）",
        "卖出（吨）",
        "手续费（元）",
        "期初资金（元）",
        "当前资金（元）",
        "资金变化（元）",
        "交易盈亏（按最新价，元）",
        "减排量（吨）",
        "减排成本（元）",
        "买卖净支出（元）",
        "履约成本（元）",
    ]
    assert lines[-1] == ""  # the last line ends too
    by_account = {line.split(",")[0]: line for line in lines[1:-1]}
    assert by_account["S001"] == (
        "S001,席位 1（水泥，湖北）,1,学员,2026,是,否,3000,2800,200,80000.00,2,320,300,20,0.00,"
        "2000000.00,1977190.00,-22810.00,-1.20,1000,40000.00,22810.00,142810.00"
    )
    assert by_account["S002"] == (
        "S002,席位 2（发电，湖北）,2,学员,2026,否,,,0,,,1,300,0,300,0.00,"
        "2000000.00,2024450.00,24450.00,12.00,,,-24450.00,-24450.00"
    )


def test_the_row_in_the_english_csv(debriefed: dict[str, dict[str, Any]]) -> None:
    text = results_csv(list(debriefed.values()), "en", "CNY")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert list(rows[0]) == [HEADERS[c][0].format(money="CNY") for c in CSV_COLUMNS]
    seat = next(r for r in rows if r["Account"] == "S001")
    assert seat["Name"] == "Seat 1 (cement, Hubei)"
    assert (seat["Role"], seat["Assessed"], seat["Complied"]) == ("Trainee", "yes", "no")
    assert seat["Penalty (CNY)"] == "80000.00"
    assert seat["Compliance cost (CNY)"] == "142810.00"
    assert seat["Trading P&L at last price (CNY)"] == "-1.20"
    assert next(r for r in rows if r["Account"] == "F1")["Role"] == "Participant"


def test_an_amount_names_the_market_s_currency() -> None:
    row = dict.fromkeys(RESULT_COLUMNS) | {"penalty_fen": 5, "role": "ccer_seller"}
    en, zh = (results_csv([row], lang, "EUR").removeprefix(BOM) for lang in ("en", "zh-CN"))
    assert "Penalty (EUR)" in en.splitlines()[0]
    assert "罚款（欧元）" in zh.splitlines()[0]
    assert en.splitlines()[1].split(",")[CSV_COLUMNS.index("penalty_fen")] == "0.05"
    assert zh.splitlines()[1].split(",")[CSV_COLUMNS.index("role")] == "CCER 卖方机器人"


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (5, "0.05"),
        (99, "0.99"),
        (100, "1.00"),
        (-1, "-0.01"),
        (-99, "-0.99"),
        (-100, "-1.00"),
        (-120, "-1.20"),
        (123_456, "1234.56"),
        (-2_281_000, "-22810.00"),
        (10**17 + 3, "1000000000000000.03"),  # beyond a float's 53 bits: still exact
    ],
)
def test_yuan_from_fen_exactly(fen: int, shown: str) -> None:
    assert yuan(fen) == shown
