// The live class dashboard: price and volume of an instrument (candles), each instrument's day
// (last, open, high, low, volume), trades today, participation, and the compliance ranking of
// every covered entity, and block trading (BlockActivity). Trades on the feed refresh it at
// once; a poll catches the rest (emissions, surrenders). API: getClassDashboard, getBars, the
// `trades` channel. Outside a class only the block activity shows.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel, Scroll } from "../../components/Panel";
import { PriceChart } from "../../components/PriceChart";
import { integer, money, price, t, tonnes } from "../../i18n";
import { type Bar, type Book, type Interval, type Trade, addTrade, barFromServer, bucketOf } from "../../market";
import type { Feed } from "../../ws";
import { type Dashboard as DashboardData, type Loose, classOptional, classPaths, dashboardOf, nameIn } from "./classApi";
import { BlockActivity } from "./BlockActivity";
import { OutcomeLine, useAction, usePoll } from "./common";

const POLL_MS = 3000;
const BARS_FETCH = 300;
const REFRESH_AFTER_TRADE_MS = 300;

const fen = (value: number | null) => (value === null ? t("value.none") : money(value));
const tons = (value: number | null) => (value === null ? t("value.none") : tonnes(value));
const px = (value: number | null) => (value === null ? t("value.none") : price(value));

export function Dashboard({ api, feed, timeZone }: { api: Api; feed: Feed; timeZone: string }) {
  const [data, setData] = useState<DashboardData | null | undefined>(undefined);
  const [symbol, setSymbol] = useState<string | null>(null);
  const [interval, setInterval_] = useState<Interval>("1m");
  const [bars, setBars] = useState<Bar[]>([]);
  const [tick, setTick] = useState(1);
  const [outcome, run] = useAction();
  const pending = useRef(0);

  async function load() {
    const raw = await classOptional(api.get<Loose>(classPaths.dashboard(api)));
    const next = raw ? dashboardOf(raw) : null;
    setData(next);
    if (next) setSymbol((current) => current ?? next.instruments[0]?.symbol ?? null);
  }
  usePoll(() => load().catch((error) => void run(() => Promise.reject(error))), POLL_MS, [api]);

  // Candles: history over REST, then each trade from the feed; a trade also refreshes the table.
  useEffect(() => {
    if (!symbol) return;
    let live = true;
    classOptional(api.get<{ bars: Record<string, number>[] }>(api.m(`/bars/${encodeURIComponent(symbol)}?interval=${interval}&limit=${BARS_FETCH}`)))
      .then((served) => live && setBars((served?.bars ?? []).map((raw) => barFromServer(raw, timeZone))))
      .catch(() => live && setBars([]));
    api.get<Book>(api.m(`/book/${encodeURIComponent(symbol)}`)).then(
      (book) => live && setTick(book.tick_fen),
      () => undefined,
    );
    const stop = feed.listen((message) => {
      if (message.type !== "trade") return;
      window.clearTimeout(pending.current);
      pending.current = window.setTimeout(() => void load().catch(() => undefined), REFRESH_AFTER_TRADE_MS);
      const trade = message as unknown as Trade;
      if (trade.symbol !== symbol) return;
      setBars((current) => {
        const next = current.map((b) => ({ ...b }));
        addTrade(next, bucketOf(trade.ts_ns, interval, timeZone), trade.price_fen, trade.qty_t);
        return next;
      });
    });
    feed.subscribe("trades");
    return () => {
      live = false;
      stop();
    };
  }, [symbol, interval, api]);

  // Not a class: no class dashboard, but a market's block trading still shows.
  if (data === null)
    return (
      <div class="dash" data-testid="dashboard">
        <p class="muted">{t("dash.unavailable")}</p>
        <BlockActivity api={api} feed={feed} timeZone={timeZone} />
      </div>
    );
  const part = data?.participation;

  return (
    <div class="dash" data-testid="dashboard">
      <OutcomeLine outcome={outcome} testId="dash-message" />
      <div class="dash-top">
        <Panel name="dash-prices" title={t("dash.prices")}>
          <Scroll label={t("dash.prices")} across>
            <table>
              <thead>
                <tr>
                  <th>{t("trade.instrument")}</th>
                  <th class="num">{t("trade.last")}</th>
                  <th class="num">{t("dash.open")}</th>
                  <th class="num">{t("dash.high")}</th>
                  <th class="num">{t("dash.low")}</th>
                  <th class="num">{t("dash.volume")}</th>
                </tr>
              </thead>
              <tbody>
                {(data?.instruments ?? []).map((i) => (
                  <tr
                    key={i.symbol}
                    data-testid="dash-instrument"
                    class={i.symbol === symbol ? "picked" : "pickable"}
                    onClick={() => setSymbol(i.symbol)}
                  >
                    <td>{i.symbol}</td>
                    <td class="num" data-testid="dash-last">
                      {px(i.last_price_fen)}
                    </td>
                    <td class="num">{px(i.open_fen)}</td>
                    <td class="num">{px(i.high_fen)}</td>
                    <td class="num">{px(i.low_fen)}</td>
                    <td class="num">{tons(i.volume_t)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          <dl class="facts">
            <dt>{t("dash.tradesToday")}</dt>
            <dd data-testid="dash-trades">{data?.trades_today === null || !data ? t("value.none") : integer(data.trades_today)}</dd>
            <dt>{t("dash.ordered")}</dt>
            <dd data-testid="dash-ordered">
              {part && part.ordered !== null ? t("dash.ofSeats", { n: part.ordered, of: part.seats ?? 0 }) : t("value.none")}
            </dd>
            <dt>{t("dash.traded")}</dt>
            <dd data-testid="dash-traded">
              {part && part.traded !== null ? t("dash.ofSeats", { n: part.traded, of: part.seats ?? 0 }) : t("value.none")}
            </dd>
          </dl>
        </Panel>
        {symbol && <PriceChart bars={bars} interval={interval} tickFen={tick} onInterval={setInterval_} />}
      </div>
      <BlockActivity api={api} feed={feed} timeZone={timeZone} />
      <Panel name="ranking" title={t("dash.ranking")}>
        <Scroll label={t("dash.ranking")} across>
          <table data-testid="ranking">
            <thead>
              <tr>
                <th class="num">{t("dash.rank")}</th>
                <th>{t("dash.who")}</th>
                <th class="num">{t("dash.obligation")}</th>
                <th class="num">{t("dash.surrendered")}</th>
                <th class="num">{t("compliance.shortfall")}</th>
                <th class="num">{t("compliance.penalty")}</th>
                <th class="num">{t("dash.cash")}</th>
                <th class="num">{t("dash.pnl")}</th>
              </tr>
            </thead>
            <tbody>
              {(data?.ranking ?? []).map((row, i) => (
                <tr key={row.account_id} data-testid="rank-row" data-account={row.account_id} class={row.seat ? "seat-row" : ""}>
                  <td class="num">{i + 1}</td>
                  <td>
                    {row.account_id}
                    {nameIn(row) && nameIn(row) !== row.account_id && <span class="muted small"> {nameIn(row)}</span>}
                    {row.seat !== null && row.seat !== undefined && <span class="badge">{t("dash.seat", { seat: String(row.seat) })}</span>}
                    {row.gas_fired && (
                      <span class="badge gas-badge" data-testid="rank-gas">
                        {t("dash.gasFired")}
                      </span>
                    )}
                  </td>
                  <td class="num">
                    {tons(row.obligation_t)}
                    {row.verified_t === null && row.obligation_t !== null && <span class="muted small"> {t("dash.projected")}</span>}
                  </td>
                  <td class="num" data-testid="rank-surrendered">
                    {tons(row.surrendered_t)}
                  </td>
                  <td class={`num ${row.shortfall_t ? "warn" : ""}`} data-testid="rank-shortfall">
                    {tons(row.shortfall_t)}
                  </td>
                  <td class="num">{fen(row.projected_penalty_fen)}</td>
                  <td class="num">{fen(row.cash_fen)}</td>
                  <td class="num">{row.pnl_fen === undefined ? t("value.none") : fen(row.pnl_fen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data && data.ranking.length === 0 && <p class="muted small">{t("dash.noEntities")}</p>}
        </Scroll>
      </Panel>
    </div>
  );
}
