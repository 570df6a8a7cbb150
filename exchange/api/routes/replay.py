"""Announcements and the replay of a market (issue 7): ``postAnnouncement`` (operators),
``listAnnouncements`` (any key of the market; newest first), each new announcement also sent
on the WebSocket channel ``announcements``; ``getReplay`` and ``getReplayTimeline``
(operators): the market rebuilt from its journal as of a seq (``exchange.replay``). They serve
any hosted market, a class or not.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from exchange.api.auth import require
from exchange.api.common import PROBLEMS
from exchange.api.deps import CurrentPrincipal, HubDep, MarketId
from exchange.api.errors import ApiError
from exchange.api.models import Body, Reply
from exchange.db.announcements import add_announcement, list_announcements
from exchange.keys import Role
from exchange.replay import ReplayCache, ReplayError, timeline

router = APIRouter(
    prefix="/v1/markets/{market_id}", tags=["announcements and replay"], responses=PROBLEMS
)
ANNOUNCEMENTS_LIMIT, ANNOUNCEMENTS_LIMIT_MAX = 50, 500


class NewAnnouncement(Body):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    level: Literal["info", "warning"] = "info"


class Announcement(Reply):
    id: int
    market_id: str
    ts_ns: int
    text: str
    level: str
    created_at: str


class Announcements(Reply):
    announcements: list[Announcement]


# ---------------------------------------------------------------------- announcements


@router.post(
    "/announcements",
    operation_id="postAnnouncement",
    status_code=201,
    response_model=Announcement,
)
async def post_announcement(
    hub: HubDep, market_id: MarketId, body: NewAnnouncement, who: CurrentPrincipal
) -> dict[str, Any]:
    """Announce news to the market (operators): stored, and sent on the WebSocket channel
    ``announcements``; stamped with the market's time (a class without a clock: its own,
    never the wall's)."""
    require(who, Role.OPERATOR)
    hosted = hub.market(market_id)
    runtime = hosted.runtime
    clock = runtime.clock
    if clock is not None:
        now_ns = clock.now_ns()
    else:
        now_ns = runtime.last_ts_ns if hosted.classroom is not None else time.time_ns()
    ts_ns = max(runtime.last_ts_ns, now_ns)
    made = await add_announcement(hub.engine, market_id, ts_ns, body.text, body.level)
    hub.feed.announce(market_id, {"type": "announcement", **_public(made)})
    return made


def _public(announcement: dict[str, Any]) -> dict[str, Any]:
    return {k: announcement[k] for k in ("id", "ts_ns", "text", "level")}


@router.get("/announcements", operation_id="listAnnouncements", response_model=Announcements)
async def get_announcements(
    hub: HubDep,
    market_id: MarketId,
    who: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=ANNOUNCEMENTS_LIMIT_MAX)] = ANNOUNCEMENTS_LIMIT,
) -> dict[str, Any]:
    """The market's announcements, newest first (any key of the market)."""
    hub.runtime(market_id)
    return {"announcements": await list_announcements(hub.engine, market_id, limit)}


# ---------------------------------------------------------------------- replay

_replays = ReplayCache()


@router.get("/replay", operation_id="getReplay")
async def get_replay(
    hub: HubDep,
    market_id: MarketId,
    who: CurrentPrincipal,
    seq: Annotated[int, Query(ge=1, le=2**63 - 1)],
) -> dict[str, Any]:
    """The market as it stood after journal entry ``seq``, rebuilt from the journal
    (operators): trading day, session, each instrument's top 5 levels, the last 50 trades."""
    require(who, Role.OPERATOR)
    hub.runtime(market_id)
    try:
        return await _replays.view(hub.engine, market_id, seq)
    except ReplayError as error:
        raise ApiError(404, "UNKNOWN_MARKET", str(error), market_id=market_id) from None


@router.get("/replay/timeline", operation_id="getReplayTimeline")
async def get_replay_timeline(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """The journal's day and session steps and the trades per minute, each with the seq a
    replay goes to (operators)."""
    require(who, Role.OPERATOR)
    hub.runtime(market_id)
    return await timeline(hub.engine, market_id)
