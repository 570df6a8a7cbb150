"""Request bodies: strict (a number is not a string, a bool is not a number), closed (unknown
fields are refused) and bounded, so whatever passes fits the market and the database's 64-bit
columns. Prices in fen, quantities in tonnes, both integers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_AMOUNT = 2**53  # the market's own ceiling for numbers (settlement: INVALID_AMOUNT)

Fen = Annotated[int, Field(ge=1, le=MAX_AMOUNT)]
Tonnes = Annotated[int, Field(ge=1, le=MAX_AMOUNT)]
AccountIdText = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ClientOrderId = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")]  # printable ASCII
Symbol = Annotated[str, Field(min_length=1, max_length=128)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AllowanceGrant(Body):
    vintage: Annotated[int, Field(ge=2000, le=2100)]
    qty_t: Tonnes


class NewParticipant(Body):
    account_id: AccountIdText
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["participant", "covered_entity"] = "participant"
    province: Annotated[str, Field(max_length=64)] = ""
    cash_fen: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] = 0
    allowances: list[AllowanceGrant] = Field(default_factory=list, max_length=50)


class NewOrder(Body):
    symbol: Symbol
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "market", "ioc", "fok"] = "limit"
    qty_t: Tonnes
    price_fen: Fen | None = None
    client_order_id: ClientOrderId | None = None
