"""The retired register (注销登记簿): a market's voluntary cancellations (自愿注销) read back with
their beneficiary and purpose (``getRetiredRegister``: any key of the market; ``listCancellations``:
an account's own, or any for operators), and a cancellation certificate (注销证明,
``getCancellationCertificate``) as JSON or, ``?format=html``, a bilingual page a company can
show. Cancelling is ``cancelUnits`` (``exchange.api.routes.registry``); the read model is
``exchange.retired``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from exchange import retired
from exchange.api.auth import may_see_account
from exchange.api.common import PROBLEMS, known_account
from exchange.api.deps import AccountPath, CurrentPrincipal, MarketId, Runtime
from exchange.api.errors import ApiError
from exchange.api.registry_common import ACCOUNT, M
from exchange.api.registry_models import Cancellations, Certificate, RetiredRegister

router = APIRouter(prefix="/v1", tags=["registry"], responses=PROBLEMS)

Serial = Annotated[int, Path(ge=1, le=10**9)]
CertificateFormat = Annotated[Literal["json", "html"], Query()]


@router.get(M + "/retired", operation_id="getRetiredRegister", response_model=RetiredRegister)
async def get_retired_register(
    market_id: MarketId, who: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    """Every voluntary cancellation in the market, in the order made, with its beneficiary,
    purpose and day (any key of the market: the register is public)."""

    def register(market: Any) -> dict[str, Any]:
        views = retired.cancellation_views(market)
        return {
            "market_id": market_id,
            "cancellations": views,
            "total_t": sum(v["qty_t"] for v in views),
        }

    return await runtime.read(register)


@router.get(
    ACCOUNT + "/cancellations", operation_id="listCancellations", response_model=Cancellations
)
async def list_cancellations(
    market_id: MarketId, account_id: AccountPath, who: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    """The account's own voluntary cancellations (its own, or any for operators)."""
    may_see_account(who, account_id)

    def own(market: Any) -> dict[str, Any]:
        views = retired.cancellation_views(market, known_account(market, account_id))
        return {
            "account_id": account_id,
            "cancellations": views,
            "total_t": sum(v["qty_t"] for v in views),
        }

    return await runtime.read(own)


@router.get(
    M + "/retired/{serial}/certificate",
    operation_id="getCancellationCertificate",
    response_model=Certificate,
    responses={200: {"content": {"text/html": {}}}},
)
async def get_cancellation_certificate(
    market_id: MarketId,
    serial: Serial,
    who: CurrentPrincipal,
    runtime: Runtime,
    format: CertificateFormat = "json",
) -> Any:
    """The certificate of the register's cancellation ``serial`` (the account's own, or any
    for operators): its number and lines, and the bilingual page (``html``); ``?format=html``
    answers the page itself."""
    market = runtime.market
    view = retired.cancellation(market, serial)
    if view is None:
        raise ApiError(
            404, "UNKNOWN_CANCELLATION", "no cancellation with this number", serial=serial
        )
    may_see_account(who, view["account_id"])
    page = retired.certificate_html(market_id, market, view)
    if format == "html":
        return HTMLResponse(page)
    number = retired.certificate_number(market_id, serial)
    return {"certificate_no": number, "cancellation": view, "html": page}
