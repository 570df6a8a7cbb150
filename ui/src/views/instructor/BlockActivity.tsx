// Block agreement trading (大宗协议) on the live dashboard: whether the block session is open,
// the open quotes (how many, how many tonnes) and negotiations, today's block deals with both
// parties, price and quantity, and, from the daily bulletin, listed and block volume per trading
// day with the block share. The operator's `block` channel tells every board change (a deal
// changes its quote), which reloads the deals; a poll catches the negotiations, which are told
// to their parties only. Nothing shows in a market whose rules offer no block trading.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../../api";
import { type BlockBoard, type BlockDeal, limitsOf } from "../../block";
import { SessionBadge } from "../../components/BlockDesk";
import { Panel, Scroll } from "../../components/Panel";
import { clockTime, integer, percentBp, price, t, tonnes } from "../../i18n";
import { unitName } from "../../names";
import type { Feed } from "../../ws";
import { OutcomeLine, useAction, usePoll } from "./common";
import "../../components/block.css";

const POLL_MS = 3000;
const DEALS_FETCH = 200;
const BULLETIN_DAYS = 5; // trading days shown, today's first
const BULLETIN_LOOKBACK = 9; // calendar days searched back for them (a weekend, a holiday)
const REFRESH_AFTER_CHANGE_MS = 300;

interface BulletinTotals {
  listed_volume_t: number;
  block_volume_t: number;
  volume_t: number;
}

interface BulletinDay {
  trading_day: string;
  cleared: boolean;
  totals: BulletinTotals;
}

/** The calendar day ``n`` days before ``iso`` (ISO dates, no time zone involved). */
function daysBefore(iso: string, n: number): string {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d - n)).toISOString().slice(0, 10);
}

/** The block share of a day's volume in basis points (integer arithmetic), or null. */
export function blockShareBp(totals: BulletinTotals): number | null {
  return totals.volume_t ? Math.round((totals.block_volume_t * 10_000) / totals.volume_t) : null;
}

export function BlockActivity({ api, feed, timeZone }: { api: Api; feed: Feed; timeZone: string }) {
  const [board, setBoard] = useState<BlockBoard | null>(null);
  const [deals, setDeals] = useState<BlockDeal[]>([]);
  const [days, setDays] = useState<BulletinDay[]>([]);
  const [outcome, run] = useAction();
  const pending = useRef(0);
  const earlier = useRef<{ today: string | null; days: BulletinDay[] }>({ today: null, days: [] });

  async function load() {
    const found = await api.get<BlockBoard>(api.m("/block/quotes"));
    setBoard(found);
    if (!found.offered || !found.trading_day) return;
    const today = found.trading_day;
    const [listed, todays] = await Promise.all([
      api.get<{ deals: BlockDeal[] }>(api.m(`/block/deals?day=${today}&limit=${DEALS_FETCH}`)),
      api.get<BulletinDay>(api.m(`/bulletin?day=${today}`)),
    ]);
    setDeals(listed.deals);
    // The earlier days once per trading day (they are done); today's on every load.
    if (earlier.current.today !== today) {
      const back = await Promise.all(
        Array.from({ length: BULLETIN_LOOKBACK }, (_, i) =>
          api.get<BulletinDay>(api.m(`/bulletin?day=${daysBefore(today, i + 1)}`)).catch(() => null),
        ),
      );
      const traded = back.filter((d): d is BulletinDay => d !== null && (d.cleared || d.totals.volume_t > 0));
      earlier.current = { today, days: traded };
    }
    setDays([todays, ...earlier.current.days].slice(0, BULLETIN_DAYS));
  }
  usePoll(() => load().catch((error) => void run(() => Promise.reject(error))), POLL_MS, [api]);

  useEffect(() => {
    const stop = feed.listen((message) => {
      if (message.type !== "block_quote" && message.type !== "block_board") return;
      window.clearTimeout(pending.current);
      pending.current = window.setTimeout(() => void load().catch(() => undefined), REFRESH_AFTER_CHANGE_MS);
    });
    feed.subscribe("block");
    return () => {
      stop();
      feed.unsubscribe("block");
    };
  }, [feed, api]);

  if (!board?.offered) return null;
  const limits = limitsOf(board);
  const quotedT = board.quotes.reduce((sum, q) => sum + q.qty_t, 0);
  const dealtT = deals.reduce((sum, d) => sum + d.qty_t, 0);
  const dealtFen = deals.reduce((sum, d) => sum + d.price_fen * d.qty_t, 0);
  return (
    <Panel name="block-activity" title={t("block.activity")} extra={<SessionBadge limits={limits} />}>
      <OutcomeLine outcome={outcome} testId="block-activity-message" />
      <dl class="facts" data-testid="block-activity-facts">
        <dt>{t("block.openQuotes")}</dt>
        <dd data-testid="ba-quotes">{t("block.openQuotesValue", { n: board.quotes.length, qty_t: quotedT })}</dd>
        <dt>{t("block.openNegotiations")}</dt>
        <dd data-testid="ba-negotiations">{board.negotiations_open === null ? t("value.none") : integer(board.negotiations_open)}</dd>
        <dt>{t("block.dealsToday")}</dt>
        <dd data-testid="ba-deals">{t("block.dealsTodayValue", { n: deals.length, qty_t: dealtT, value_fen: dealtFen })}</dd>
      </dl>
      <h3>{t("block.dealsToday")}</h3>
      <Scroll label={t("block.dealsToday")} across>
        <table data-testid="ba-deal-table">
          <thead>
            <tr>
              <th>{t("fills.time")}</th>
              <th>{t("trade.instrument")}</th>
              <th>{t("block.buyer")}</th>
              <th>{t("block.seller")}</th>
              <th class="num">{t("fills.price")}</th>
              <th class="num">{t("fills.qty")}</th>
            </tr>
          </thead>
          <tbody>
            {deals.length === 0 && (
              <tr>
                <td colSpan={6} class="muted empty">
                  {t("block.noDealsToday")}
                </td>
              </tr>
            )}
            {deals.map((deal) => (
              <tr key={deal.deal_id} data-testid="ba-deal" data-deal-id={deal.deal_id}>
                <td>{clockTime(deal.ts_ns, timeZone)}</td>
                <td class="wrap">{unitName(deal.symbol)}</td>
                <td>{deal.buy_account_id}</td>
                <td>{deal.sell_account_id}</td>
                <td class="num">{price(deal.price_fen)}</td>
                <td class="num">{integer(deal.qty_t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h3>{t("block.bulletin")}</h3>
      <p class="muted small">{t("block.bulletinHint")}</p>
      <Scroll label={t("block.bulletin")} across>
        <table data-testid="ba-bulletin">
          <thead>
            <tr>
              <th>{t("block.day")}</th>
              <th class="num">{t("block.listedVolume")}</th>
              <th class="num">{t("block.blockVolume")}</th>
              <th class="num">{t("block.blockShare")}</th>
            </tr>
          </thead>
          <tbody>
            {days.map((day, i) => {
              const share = blockShareBp(day.totals);
              return (
                <tr key={day.trading_day} data-testid="ba-day" data-day={day.trading_day}>
                  <td class="wrap">{i === 0 ? t("block.todaySoFar", { day: day.trading_day }) : day.trading_day}</td>
                  <td class="num">{tonnes(day.totals.listed_volume_t)}</td>
                  <td class="num">{tonnes(day.totals.block_volume_t)}</td>
                  <td class="num">{share === null ? t("value.none") : percentBp(share)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Scroll>
    </Panel>
  );
}
