"""A class's results as the debrief's spreadsheet (``getClassResults?format=csv``): one row per
trading account, amounts in yuan, headers and words in English or Chinese.

The JSON results (``exchange.classroom.views.results``) keep integer fen; here every ``_fen``
column becomes yuan with two decimals, written from the integer by ``divmod`` (no float ever
holds money): ``-1`` fen is ``-0.01``, ``123456`` is ``1234.56``. The file starts with a UTF-8
byte-order mark, so that Excel reads the Chinese as UTF-8, and ends its lines with CRLF.

Per language: the headers (an amount's names its currency, 元 or CNY), the account's name
(``name`` or ``name_zh``), yes and no, and the role. An empty cell is a value the row does not
have (not assessed yet, no abatement known, no obligation).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from exchange.classroom.views import RESULT_COLUMNS
from registry_sim.rules import LANGUAGES

BOM = "\ufeff"

# The CSV's columns, in order: the results' own, with one name column in the file's language.
CSV_COLUMNS = tuple(c for c in RESULT_COLUMNS if c != "name_zh")

# Each column's header in English and Chinese; {money} is the currency's name.
HEADERS: Mapping[str, tuple[str, str]] = {
    "account_id": ("Account", "账户"),
    "name": ("Name", "名称"),
    "seat": ("Seat", "席位"),
    "role": ("Role", "角色"),
    "year": ("Compliance year", "履约年度"),
    "assessed": ("Assessed", "是否已核定"),
    "complied": ("Complied", "是否履约"),
    "obligation_t": ("Obligation (t)", "履约义务（吨）"),
    "surrendered_t": ("Surrendered (t)", "已清缴（吨）"),
    "shortfall_t": ("Shortfall (t)", "缺口（吨）"),
    "penalty_fen": ("Penalty ({money})", "罚款（{money}）"),
    "trades": ("Trades", "成交笔数"),
    "volume_t": ("Volume traded (t)", "成交量（吨）"),
    "bought_t": ("Bought (t)", "买入（吨）"),
    "sold_t": ("Sold (t)", "卖出（吨）"),
    "fees_fen": ("Fees ({money})", "手续费（{money}）"),
    "cash_start_fen": ("Cash at start ({money})", "期初资金（{money}）"),
    "cash_fen": ("Cash now ({money})", "当前资金（{money}）"),
    "cash_change_fen": ("Cash change ({money})", "资金变化（{money}）"),
    "pnl_fen": ("Trading P&L at last price ({money})", "交易盈亏（按最新价，{money}）"),
    "abated_t": ("Abated (t)", "减排量（吨）"),
    "abatement_cost_fen": ("Abatement cost ({money})", "减排成本（{money}）"),
    "net_spend_fen": ("Net spend on units ({money})", "买卖净支出（{money}）"),
    "compliance_cost_fen": ("Compliance cost ({money})", "履约成本（{money}）"),
}

# A currency's name in a header, in English and Chinese; another code names itself.
MONEY: Mapping[str, tuple[str, str]] = {
    "CNY": ("CNY", "元"),
    "EUR": ("EUR", "欧元"),
    "USD": ("USD", "美元"),
}

YES_NO: Mapping[bool, tuple[str, str]] = {True: ("yes", "是"), False: ("no", "否")}

# An account's role: a seat, an agent kind of the scenario, or a participant without one.
ROLES: Mapping[str, tuple[str, str]] = {
    "seat": ("Trainee", "学员"),
    "participant": ("Participant", "交易参与人"),
    "firm": ("Firm bot", "企业机器人"),
    "market_maker": ("Market maker bot", "做市商机器人"),
    "ccer_seller": ("CCER seller bot", "CCER 卖方机器人"),
    "noise": ("Noise trader bot", "噪声交易机器人"),
    "zic": ("Zero-intelligence bot", "零智能机器人"),
}

assert set(HEADERS) == set(CSV_COLUMNS)


def yuan(fen: int) -> str:
    """An amount in fen as yuan with two decimals, exactly: ``-5`` is ``-0.05``."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def _in(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "zh-CN" else pair[0]


def headers(language: str, currency: str) -> list[str]:
    """The CSV's header row in ``language`` for amounts in ``currency``."""
    money = _in(MONEY.get(currency, (currency, currency)), language)
    return [_in(HEADERS[c], language).format(money=money) for c in CSV_COLUMNS]


def cell(column: str, value: Any, language: str) -> str:
    """One value as the CSV writes it in ``language``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _in(YES_NO[value], language)
    if column.endswith("_fen"):
        assert isinstance(value, int), (column, value)  # money is integer fen
        return yuan(value)
    if column == "role":
        return _in(ROLES[value], language) if value in ROLES else str(value)
    return str(value)


def results_csv(rows: list[dict[str, Any]], language: str, currency: str) -> str:
    """The results as the debrief's CSV in ``language`` ("zh-CN" or "en")."""
    assert language in LANGUAGES, language
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(language, currency))
    for row in rows:
        named = {**row, "name": row["name_zh"] if language == "zh-CN" else row["name"]}
        writer.writerow([cell(c, named[c], language) for c in CSV_COLUMNS])
    return BOM + out.getvalue()
