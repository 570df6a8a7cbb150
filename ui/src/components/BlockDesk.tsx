// Block agreement trading (大宗协议交易) on the trainee screen: the mode's limits (the least a
// quote or deal may be, today's block price range per instrument, the block session and whether
// it is open now), the board, posting a quote, my negotiations and my block deals. The board
// and the negotiations come from the `block` channel (its snapshot, then each change); the
// limits are read again on a poll, since the session opens and closes with the market's clock;
// deals arrive on the channel too. Cash and holdings move on the screen's own panels (the
// balances channel); a read that fails is said on the screen's own error line. Nothing shows
// in a market whose rules offer no block trading.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import {
  type BlockBoard,
  type BlockDeal,
  type BlockLimits,
  type BlockView,
  EMPTY_VIEW,
  addDeal,
  applyBlock,
  limitsOf,
} from "../block";
import { clockTime, integer, money, percentBp, price, t, tonnes } from "../i18n";
import type { Balances } from "../market";
import { unitName } from "../names";
import type { Feed } from "../ws";
import { BlockNegotiations } from "./BlockNegotiations";
import { BlockPost } from "./BlockPost";
import { BlockQuotes } from "./BlockQuotes";
import { Panel, Scroll } from "./Panel";
import "./block.css";

const POLL_MS = 5000; // the session's opening and closing are on no channel
const DEALS_FETCH = 50;

/** The sessions as times from and to: "13:00–15:00". */
export function sessionsText(limits: BlockLimits): string {
  return limits.sessions.map(([from, to]) => `${from}–${to}`).join(", ");
}

/** The block session now: open or not, with its hours. */
export function SessionBadge({ limits }: { limits: BlockLimits }) {
  return (
    <span
      class={`badge session ${limits.open_now ? "open" : "shut"}`}
      data-testid="block-session"
      data-open={limits.open_now}
    >
      {t(limits.open_now ? "block.sessionOpen" : "block.sessionShut", { sessions: sessionsText(limits) })}
    </span>
  );
}

/** In the screen's toolbar: block trading is below, and whether its session is open; a click
 * brings it into view (on a phone it comes after every other panel). */
export function BlockJump({ limits }: { limits: BlockLimits }) {
  return (
    <button
      type="button"
      class={`block-jump ${limits.open_now ? "open" : "shut"}`}
      data-testid="block-jump"
      onClick={() => {
        const heading = document.getElementById("block-desk-title");
        heading?.scrollIntoView({ block: "start" });
        heading?.focus({ preventScroll: true });
      }}
    >
      {t(limits.open_now ? "block.jumpOpen" : "block.jumpShut")}
    </button>
  );
}

export function BlockDesk(props: {
  api: Api;
  feed: Feed;
  accountId: string | null;
  symbol: string | null;
  symbols: string[];
  timeZone: string;
  today: string;
  balances: Balances | null;
  onLimits?: (limits: BlockLimits | null) => void; // the toolbar's BlockJump
  // A read that failed, and the same read done again: the screen says so in one place.
  failed: (what: string, error: unknown) => void;
  succeeded: (what: string) => void;
}) {
  const { api, feed, accountId, failed, succeeded } = props;
  const [limits, setLimits] = useState<BlockLimits | null>(null);
  const [view, setView] = useState<BlockView>(EMPTY_VIEW);
  const [deals, setDeals] = useState<BlockDeal[]>([]);

  // The limits (and, until the channel's snapshot arrives, the quotes) over REST, on a poll.
  useEffect(() => {
    let live = true;
    const load = () =>
      api.get<BlockBoard>(api.m("/block/quotes")).then(
        (board) => {
          if (!live) return;
          succeeded("block");
          setLimits(limitsOf(board));
          setView((current) => (current.base === 0 ? { ...current, quotes: board.quotes } : current));
        },
        (error) => live && failed("block", error),
      );
    void load();
    const timer = window.setInterval(load, POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [api]);

  // My deals over REST, again after a reconnect; each new one from the channel.
  useEffect(() => {
    if (!accountId) return;
    let live = true;
    const load = () =>
      api.get<{ deals: BlockDeal[] }>(api.m(`/block/deals?limit=${DEALS_FETCH}`)).then(
        (found) => {
          if (!live) return;
          succeeded("block-deals");
          setDeals((current) => found.deals.reduce(addDeal, current));
        },
        (error) => live && failed("block-deals", error),
      );
    void load();
    const stop = feed.onReconnect(() => void load());
    return () => {
      live = false;
      stop();
    };
  }, [api, accountId]);

  // The board and my negotiations: the channel's snapshot, then each change.
  useEffect(() => {
    const stop = feed.listen((message) => {
      if (!message.type.startsWith("block_")) return;
      if (message.type === "block_board") setLimits(limitsOf(message));
      if (message.type === "block_deal") setDeals((current) => addDeal(current, message.deal as BlockDeal));
      setView((current) => applyBlock(current, message));
    });
    feed.subscribe("block");
    return () => {
      stop();
      feed.unsubscribe("block");
    };
  }, [feed]);

  useEffect(() => props.onLimits?.(limits), [limits]);

  if (!limits?.offered) return null;
  const symbols = props.symbols.length ? props.symbols : limits.bands.map((b) => b.symbol);
  return (
    <section class="block-desk" data-testid="block-desk" aria-labelledby="block-desk-title">
      <header class="block-head">
        <h2 id="block-desk-title" tabIndex={-1}>
          {t("block.title")}
        </h2>
        <SessionBadge limits={limits} />
      </header>
      <div class="block-grid">
        <div class="block-side">
          <BlockRules limits={limits} />
          {accountId && (
            <BlockPost
              api={api}
              limits={limits}
              symbols={symbols}
              symbol={props.symbol}
              accountId={accountId}
              balances={props.balances}
            />
          )}
        </div>
        <div class="block-main">
          <BlockQuotes
            api={api}
            limits={limits}
            quotes={view.quotes}
            accountId={accountId}
            balances={props.balances}
            timeZone={props.timeZone}
          />
          {accountId && <BlockNegotiations api={api} limits={limits} negotiations={view.negotiations} quotes={view.quotes} />}
          {accountId && <BlockDeals deals={deals} accountId={accountId} timeZone={props.timeZone} today={props.today} />}
        </div>
      </div>
    </section>
  );
}

/** The mode's limits: the session, the least per quote or deal, the band and today's price
 * range per instrument, directed quotes, whether the board shows prices. */
export function BlockRules({ limits }: { limits: BlockLimits }) {
  return (
    <Panel name="block-rules" title={t("block.rules")}>
      <dl class="facts rules" data-testid="block-rules">
        <dt>{t("block.session")}</dt>
        <dd data-testid="block-hours">
          {t("block.sessionHours", { sessions: sessionsText(limits), timezone: limits.timezone })}
        </dd>
        {limits.min_qty_t !== null && (
          <>
            <dt>{t("block.minimum")}</dt>
            <dd data-testid="block-min">{tonnes(limits.min_qty_t)}</dd>
          </>
        )}
        {limits.band_bp !== null && (
          <>
            <dt>{t("block.band")}</dt>
            <dd>{t("block.bandOfClose", { band: percentBp(limits.band_bp) })}</dd>
          </>
        )}
        <dt>{t("block.directed")}</dt>
        <dd>{t(limits.directed ? "block.directedYes" : "block.directedNo")}</dd>
        <dt>{t("block.boardPrices")}</dt>
        <dd>{t(limits.board_prices ? "block.pricesShown" : "block.pricesHidden")}</dd>
      </dl>
      <table class="block-bands">
        <caption>{t("block.bandToday")}</caption>
        <thead>
          <tr>
            <th>{t("trade.instrument")}</th>
            <th class="num">{t("block.range")}</th>
            <th class="num">{t("block.reference")}</th>
          </tr>
        </thead>
        <tbody>
          {limits.bands.map((band) => (
            <tr key={band.symbol} data-testid="block-band" data-symbol={band.symbol}>
              <td class="name">{unitName(band.symbol)}</td>
              <td class="num">
                {price(band.lower_fen)} – {price(band.upper_fen)}
              </td>
              <td class="num">{price(band.reference_price_fen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/** My block deals, most recent first: instrument, my side and the time, price, quantity, the
 * other party and my fee (four columns, to fit a phone). */
function BlockDeals(props: { deals: BlockDeal[]; accountId: string; timeZone: string; today: string }) {
  return (
    <Panel name="block-deals" title={t("block.deals")}>
      <Scroll label={t("block.deals")}>
        <table class="fills block-deals">
          <thead>
            <tr>
              <th>{t("block.dealWhat")}</th>
              <th class="num">{t("fills.price")}</th>
              <th class="num">{t("fills.qty")}</th>
              <th>{t("block.counterpartyFee")}</th>
            </tr>
          </thead>
          <tbody>
            {props.deals.length === 0 && (
              <tr>
                <td colSpan={4} class="muted empty">
                  {t("block.noDeals")}
                </td>
              </tr>
            )}
            {props.deals.map((deal) => {
              const side = deal.buy_account_id === props.accountId ? "buy" : "sell";
              const other = side === "buy" ? deal.sell_account_id : deal.buy_account_id;
              const fee = side === "buy" ? deal.buy_fee_fen : deal.sell_fee_fen;
              return (
                <tr key={deal.deal_id} data-testid="block-deal-row" data-deal-id={deal.deal_id}>
                  <td class="name">
                    {unitName(deal.symbol)}
                    <span class="sub">
                      <span class={`side ${side}`}>{t(`enum.${side}`)}</span>{" "}
                      {deal.trading_day !== props.today && `${deal.trading_day} `}
                      {clockTime(deal.ts_ns, props.timeZone)}
                    </span>
                  </td>
                  <td class="num">{price(deal.price_fen)}</td>
                  <td class="num">{integer(deal.qty_t)}</td>
                  <td>
                    {other}
                    <span class="sub">{t("block.fee", { fee: money(fee) })}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Scroll>
    </Panel>
  );
}
