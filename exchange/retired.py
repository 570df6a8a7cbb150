"""The retired register's read model (注销登记簿): a market's voluntary cancellations (自愿注销)
with their beneficiary, purpose and day, and a cancellation certificate (注销证明) a company can
show, as a bilingual HTML page (Chinese and English side by side).

Pure reads of the market's in-memory registry (``Registry.cancellations``): the routes
(``exchange.api.routes.registry``) call these and send what they give back.
"""

from __future__ import annotations

import html
from typing import Any

from registry_sim.model import AccountId
from settlement.market import Market


def cancellation_views(market: Market, account_id: AccountId | None = None) -> list[dict[str, Any]]:
    """Every voluntary cancellation of the market (or of one account), in the order made."""
    registry = market.registry
    types = {u.code: u for u in registry.unit_types()}
    views = []
    for serial, c, on in registry.cancellations(account_id):
        unit = types[c.unit]
        owner = registry.account(c.account_id)
        views.append(
            {
                "serial": serial,
                "op_id": c.op_id,
                "account_id": c.account_id,
                "account_name": owner.name if owner is not None else c.account_id,
                "unit": c.unit,
                "unit_name": registry.unit_name(c.unit),
                "kind": unit.kind.value,
                "vintage": unit.vintage,
                "project_id": unit.project_id,
                "qty_t": c.qty_t,
                "beneficiary": c.beneficiary,
                "purpose": c.purpose,
                "on": None if on is None else on.isoformat(),
            }
        )
    return views


def cancellation(market: Market, serial: int) -> dict[str, Any] | None:
    """The register's cancellation number ``serial`` (from 1), or None."""
    found = [v for v in cancellation_views(market) if v["serial"] == serial]
    return found[0] if found else None


def certificate_number(market_id: str, serial: int) -> str:
    return f"{market_id.upper()}-C{serial:06d}"


# Each line of the certificate: its label in Chinese and in English, and the view's value.
_LINES = (
    ("证明编号", "Certificate no.", "number"),
    ("注销日期", "Date of cancellation", "on"),
    ("注销账户", "Cancelled by", "account"),
    ("注销标的", "Units", "units"),
    ("注销数量", "Quantity", "quantity"),
    ("受益方", "Beneficiary", "beneficiary"),
    ("注销用途", "Purpose", "purpose"),
    ("交易市场", "Market", "market"),
)


def certificate_html(market_id: str, market: Market, view: dict[str, Any]) -> str:
    """The cancellation certificate (注销证明) of one cancellation, as a standalone bilingual
    HTML page: every value escaped."""
    values = {
        "number": certificate_number(market_id, view["serial"]),
        "on": view["on"] or "—",
        "account": f"{view['account_name']} ({view['account_id']})",
        "units": f"{view['unit_name']['zh-CN']} / {view['unit_name']['en']} ({view['unit']})",
        "quantity": f"{view['qty_t']:,} 吨 / t CO₂e",
        "beneficiary": view["beneficiary"],
        "purpose": view["purpose"] or "—",
        "market": market.rules.title,
    }
    rows = "\n".join(
        f'<tr><th>{zh}<br><span lang="en">{en}</span></th><td>{html.escape(values[key])}</td></tr>'
        for zh, en, key in _LINES
    )
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>注销证明 Cancellation certificate {html.escape(values["number"])}</title>
<style>
body {{ font-family: sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }}
h1 {{ font-size: 1.5rem; }} th {{ text-align: left; padding: .4rem 1rem .4rem 0; }}
td {{ padding: .4rem 0; }} th span {{ font-weight: normal; color: #555; }}
</style>
</head>
<body>
<h1>注销证明 <span lang="en">Cancellation certificate</span></h1>
<table>
{rows}
</table>
<p>以上单位已自愿注销，永久退出流通，不能再交易或用于清缴履约。</p>
<p lang="en">The units above were cancelled voluntarily and retired for good: they can no longer
be traded or surrendered for compliance.</p>
<p><small>carbonx (simulated market) 模拟市场</small></p>
</body>
</html>
"""
