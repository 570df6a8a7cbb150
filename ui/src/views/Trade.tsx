// The trainee screen: instrument selector, L2 ladder, chart, time and sales, order entry, open
// orders, fills, cash and holdings, the compliance panel, announcements, the daily statements,
// and voluntary cancellation with its certificates; in a class, the class
// strip (phase, clock, trading day n of N, what comes next) and the seat's firm. Public data arrives
// on the WebSocket (book deltas, trades); own order events trigger a fresh read of the private
// panels over REST, so those always show the server's numbers. A read that fails says so until
// the same read succeeds again, or the feed reconnects.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiProblem, optional } from "../api";
import type { Ctx } from "../app";
import { Account } from "../components/Account";
import { Announcements, NewsBadge, NewsToast, useNews } from "../components/Announcements";
import { AuctionPanel } from "../components/Auctions";
import { BlockDesk, BlockJump } from "../components/BlockDesk";
import type { BlockLimits } from "../block";
import { Cancellations } from "../components/Cancellations";
import { ClassStrip } from "../components/ClassStrip";
import { CompliancePanel, type Plan, type PlanItem } from "../components/CompliancePanel";
import { Fills } from "../components/Fills";
import { MrvPanel } from "../components/MrvPanel";
import { MyFirm } from "../components/MyFirm";
import { OpenOrders } from "../components/OpenOrders";
import { OrderEntry } from "../components/OrderEntry";
import { PriceChart } from "../components/PriceChart";
import { Statements } from "../components/Statements";
import { TimeSales } from "../components/TimeSales";
import { LADDER_LEVELS, Ladder } from "../components/Ladder";
import { price, t } from "../i18n";
import {
  type AccountFill,
  type Balances,
  type Bar,
  type Book,
  type Compliance,
  type Interval,
  type Level,
  type Order,
  type TapeEntry,
  type Trade as TradeRow,
  addTrade,
  applyLevels,
  barFromServer,
  barsFromTrades,
  bucketOf,
  isListed,
} from "../market";
import { useMyClass } from "../classroom";
import { rememberNames, unitName } from "../names";
import { explain } from "../problems";
import type { Feed, Message } from "../ws";
import { type MarketInfo, loadClock, loadMarketInfo } from "./marketInfo";

const POLL_MS = 5000; // instrument state, band and the clock are not on the feed yet
const TAPE_FETCH = 100;
const BARS_FETCH = 300;
const FILLS_FETCH = 50;

interface Private {
  balances: Balances;
  orders: Order[];
  fills: AccountFill[];
  compliance: Compliance | null;
  plan: Plan | null;
}

/** getSurrenderPlan's answer as the panel uses it (the items carry more than unit and qty). */
function planOf(raw: Record<string, unknown> | null): Plan | null {
  if (!raw || !Array.isArray(raw.items)) return null;
  const items = (raw.items as PlanItem[]).map(({ unit, qty_t }) => ({ unit, qty_t }));
  const number = (value: unknown) => (typeof value === "number" ? value : null);
  return {
    items,
    shortfallAfterT: number(raw.shortfall_after_plan_t),
  };
}

type LadderSide = Map<number, Level>;

/** What failed, by the read that failed: each clears when that read next succeeds. A read that
 * could not reach the server while the feed is connected again was cut before the reconnect
 * (the reconnect clears every failure and reads again): it is not told. */
function useFailures(feed: Feed) {
  const [failures, setFailures] = useState<Record<string, string>>({});
  const failed = (what: string, error: unknown) => {
    const unreachable = error instanceof ApiProblem && error.code === "NETWORK_ERROR";
    if (unreachable && feed.connection === "connected") return;
    setFailures((c) => ({ ...c, [what]: explain(error) }));
  };
  const succeeded = (what: string) =>
    setFailures((c) => {
      if (!(what in c)) return c;
      const rest = { ...c };
      delete rest[what];
      return rest;
    });
  const clear = () => setFailures({});
  const first = Object.values(failures)[0] ?? null;
  const firstRead = Object.keys(failures)[0] ?? null; // which read, for a test or a bug report
  return { first, firstRead, failed, succeeded, clear };
}

export function Trade({ ctx }: { ctx: Ctx }) {
  const { api, feed, session } = ctx;
  const accountId = session.role === "participant" ? session.accountId : null;
  const [info, setInfo] = useState<MarketInfo | null>(null);
  const failures = useFailures(feed);
  const failure = failures.first;
  const [symbol, setSymbol] = useState<string | null>(null);
  const [book, setBook] = useState<Book | null>(null);
  const [, setBookVersion] = useState(0);
  const ladder = useRef<{ bids: LadderSide; asks: LadderSide; seq: number }>({ bids: new Map(), asks: new Map(), seq: 0 });
  const [trades, setTrades] = useState<TradeRow[]>([]);
  const [interval, setInterval_] = useState<Interval>("1m");
  const [bars, setBars] = useState<Bar[]>([]);
  const [own, setOwn] = useState<Private | null>(null);
  const [year, setYear] = useState<number | null>(null);
  const news = useNews(api, feed, session.marketId);
  const [picked, setPicked] = useState<{ priceFen: number; n: number } | null>(null);
  const [learnedMax, setLearnedMax] = useState<Record<string, number>>({});
  const [block, setBlock] = useState<BlockLimits | null>(null); // block trading, if offered
  // In a class: its clock, trading day n of N, what comes next, and the seat's firm.
  const { view: klass, refresh: refreshClass } = useMyClass(api, feed);

  // The market: time zone, trading day, instruments.
  useEffect(() => {
    loadMarketInfo(api, session.marketId, accountId).then(
      (loaded) => {
        failures.succeeded("market");
        setInfo(loaded);
        setSymbol((current) => current ?? loaded.instruments[0]?.symbol ?? null);
        void openYear(loaded.today).then((opened) => setYear((current) => current ?? opened));
      },
      (error) => failures.failed("market", error),
    );
  }, [api]);

  // Whatever failed is tried again after a reconnect: start afresh.
  useEffect(() => feed.onReconnect(failures.clear), [feed]);

  // The instrument's book: REST for its band and state, then the feed's snapshot and deltas.
  useEffect(() => {
    if (!symbol) return;
    let live = true;
    const channel = `book:${symbol}`;
    const refresh = () =>
      api.get<Book>(api.m(`/book/${encodeURIComponent(symbol)}`)).then(
        (b) => {
          if (!live) return;
          failures.succeeded("book");
          setBook(b);
        },
        (error) => live && failures.failed("book", error),
      );
    void refresh();
    ladder.current = { bids: new Map(), asks: new Map(), seq: 0 };
    const stop = feed.listen((message) => {
      if (message.symbol !== symbol) return;
      if (message.type === "book_snapshot") {
        ladder.current = { bids: new Map(), asks: new Map(), seq: Number(message.market_seq) };
        applyLevels(ladder.current.bids, message.bids as Level[]);
        applyLevels(ladder.current.asks, message.asks as Level[]);
        setBookVersion((v) => v + 1);
      } else if (message.type === "book_delta" && Number(message.market_seq) > ladder.current.seq) {
        // Every level whose place in the view changed, refills of the depth included.
        applyLevels(ladder.current.bids, message.bids as Level[]);
        applyLevels(ladder.current.asks, message.asks as Level[]);
        setBookVersion((v) => v + 1);
      }
    });
    feed.subscribe(channel);
    const timer = window.setInterval(refresh, POLL_MS);
    const stopReconnect = feed.onReconnect(refresh);
    return () => {
      live = false;
      stop();
      stopReconnect();
      feed.unsubscribe(channel);
      window.clearInterval(timer);
    };
  }, [symbol]);

  // The tape and the chart: history over REST, then each trade from the feed.
  useEffect(() => {
    if (!symbol || !info) return;
    let live = true;
    const load = async () => {
      const tape = await api.get<{ trades: TapeEntry[] }>(
        api.m(`/trades?symbol=${encodeURIComponent(symbol)}&limit=${TAPE_FETCH}`),
      );
      const served = await optional(
        api.get<{ bars: Record<string, number>[] }>(
          api.m(`/bars/${encodeURIComponent(symbol)}?interval=${interval}&limit=${BARS_FETCH}`),
        ),
      ).catch(() => null);
      if (!live) return;
      failures.succeeded("tape");
      // Block deals are on the tape (mode block) but not in the listed quotes, as on the
      // exchange: the block board lists them.
      const listed = tape.trades.filter(isListed);
      setTrades(listed);
      setBars(
        served?.bars
          ? served.bars.map((raw) => barFromServer(raw, info.timeZone))
          : barsFromTrades([...listed].reverse(), interval, info.timeZone),
      );
    };
    load().catch((error) => live && failures.failed("tape", error));
    const stop = feed.listen((message) => {
      if (message.type !== "trade" || message.symbol !== symbol) return;
      const trade = message as unknown as TradeRow;
      setTrades((current) =>
        current.some((x) => x.trade_id === trade.trade_id) ? current : [trade, ...current].slice(0, TAPE_FETCH),
      );
      setBars((current) => {
        const next = current.map((b) => ({ ...b }));
        addTrade(next, bucketOf(trade.ts_ns, interval, info.timeZone), trade.price_fen, trade.qty_t);
        return next;
      });
    });
    feed.subscribe("trades");
    const stopReconnect = feed.onReconnect(() => void load().catch(() => undefined));
    return () => {
      live = false;
      stop();
      stopReconnect();
    };
  }, [symbol, interval, info]);

  // The account: balances, open orders, fills, compliance; again after each own event.
  const refreshOwn = useMemo(() => {
    let timer = 0;
    return (now = false) => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void loadOwn(), now ? 0 : 150);
    };
  }, [api, year]);

  /** The compliance year the panel opens on: a class's own year (getClassPhase); outside a
   * class, last year's while its surrender is open (until its deadline), else this year's. */
  async function openYear(today: string): Promise<number> {
    const klass = await optional(api.get<{ compliance_year: number }>(api.m("/class/phase"))).catch(() => null);
    if (klass) return klass.compliance_year;
    const last = Number(today.slice(0, 4)) - 1;
    if (!accountId) return last;
    const account = `/accounts/${encodeURIComponent(accountId)}`;
    const status = await api.get<Compliance>(api.m(`${account}/compliance/${last}`)).catch(() => null);
    return status === null || status.deadline >= today ? last : last + 1;
  }

  async function loadOwn() {
    if (!accountId || year === null) return;
    const account = `/accounts/${encodeURIComponent(accountId)}`;
    try {
      const [balances, orders, fills, compliance] = await Promise.all([
        api.get<Balances>(api.m(`${account}/balances`)),
        api.get<{ orders: Order[] }>(api.m("/orders?status=all")), // today's, whatever their status
        api.get<{ fills: AccountFill[] }>(api.m(`/fills?limit=${FILLS_FETCH}`)),
        api.get<Compliance>(api.m(`${account}/compliance/${year}`)).catch(() => null),
      ]);
      // A plan only for a year that can still be surrendered for: verified, not assessed, and
      // its deadline not passed (otherwise the registry refuses, and nothing would be offered).
      const open =
        compliance !== null &&
        compliance.obligation_t !== null &&
        compliance.assessed === null &&
        (info === null || compliance.deadline >= info.today);
      const plan = open
        ? await optional(api.get<Record<string, unknown>>(api.m(`${account}/compliance/${year}/plan`))).catch(
            () => null,
          )
        : null;
      rememberNames(balances.holdings);
      failures.succeeded("own");
      setOwn({ balances, orders: orders.orders, fills: fills.fills, compliance, plan: planOf(plan) });
    } catch (error) {
      failures.failed("own", error);
    }
  }

  useEffect(() => {
    if (!accountId) return;
    refreshOwn(true);
    const stop = feed.listen((message: Message) => {
      if (["order", "fill", "balances", "compliance"].includes(message.type)) refreshOwn();
    });
    for (const channel of ["orders", "balances", "compliance"]) feed.subscribe(channel);
    const stopReconnect = feed.onReconnect(() => refreshOwn(true));
    return () => {
      stop();
      stopReconnect();
    };
  }, [refreshOwn]);

  // The trading day moves with the instructor's clock.
  useEffect(() => {
    const timer = window.setInterval(async () => {
      const clock = await loadClock(api);
      if (clock.today) setInfo((current) => (current && current.today !== clock.today ? { ...current, today: clock.today! } : current));
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [api]);

  if (!info) {
    return <p class="muted loading">{failure ?? t("app.loading")}</p>;
  }
  const bids = [...ladder.current.bids.values()].sort((a, b) => b.price_fen - a.price_fen).slice(0, LADDER_LEVELS);
  const asks = [...ladder.current.asks.values()].sort((a, b) => a.price_fen - b.price_fen).slice(0, LADDER_LEVELS);
  const instrument = info.instruments.find((i) => i.symbol === symbol);
  const maxQty = instrument?.maxQtyT ?? (symbol ? learnedMax[symbol] : undefined) ?? null;
  const holding = own?.balances.holdings.find((h) => h.unit === symbol);
  const todayYear = Number(info.today.slice(0, 4));
  const last = trades[0];
  const name = symbol ? unitName(symbol) : null;

  return (
    <div class="trade" data-testid="trade-view">
      <div class="toolbar">
        {/* Before the instrument, so that the ladder still comes next to it by keyboard. */}
        {block?.offered && <BlockJump limits={block} />}
        <label class="instrument">
          {t("trade.instrument")}
          <select
            data-testid="instrument"
            value={symbol ?? ""}
            onChange={(e) => setSymbol((e.target as HTMLSelectElement).value)}
          >
            {info.instruments.length === 0 && <option value="">{t("trade.noInstruments")}</option>}
            {info.instruments.map((i) => (
              <option key={i.symbol} value={i.symbol}>
                {unitName(i.symbol)}
              </option>
            ))}
          </select>
        </label>
        {book && (
          <span class={`badge state-${book.state}`} data-testid="book-state">
            {t(`enum.${book.state}`)}
          </span>
        )}
        {last && (
          <span class="last">
            {t("trade.last")}: <b>{price(last.price_fen)}</b>
          </span>
        )}
        <span class="muted">
          {t("trade.day")}: {info.today}
        </span>
        <NewsBadge news={news} />
      </div>
      {klass && <ClassStrip view={klass} />}
      {klass?.seat && <MrvPanel api={api} phase={klass.phase} />}
      {failure && (
        <p class="error" role="alert" data-read={failures.firstRead ?? undefined}>
          {failure}
        </p>
      )}
      <div class="grid">
        <div class="col col-left">
          <Ladder
            name={name}
            book={book}
            bids={bids}
            asks={asks}
            onPick={(p) => setPicked((c) => ({ priceFen: p, n: (c?.n ?? 0) + 1 }))}
            api={accountId ? api : undefined}
            onTaken={() => refreshOwn(true)}
          />
          <TimeSales trades={trades} timeZone={info.timeZone} name={name} />
          {news.items !== null && <Announcements news={news} timeZone={info.timeZone} />}
        </div>
        <div class="col col-mid">
          <PriceChart bars={bars} interval={interval} tickFen={book?.tick_fen ?? 1} onInterval={setInterval_} />
          {own && <OpenOrders api={api} orders={own.orders} onDone={() => refreshOwn(true)} />}
          {own && <Fills fills={own.fills} timeZone={info.timeZone} />}
          {accountId && <Statements api={api} feed={feed} accountId={accountId} />}
        </div>
        <div class="col col-right">
          {accountId && symbol && (
            <OrderEntry
              api={api}
              symbol={symbol}
              book={book}
              maxQtyT={maxQty}
              cashAvailableFen={own?.balances.cash.available_fen ?? null}
              sellableT={holding?.sellable_t ?? (own ? 0 : null)}
              picked={picked}
              onDone={() => refreshOwn(true)}
              onRefused={(code, members) => {
                if (code === "QTY_OUTSIDE_LIMITS" && typeof members.max_qty_t === "number" && symbol)
                  setLearnedMax((c) => ({ ...c, [symbol]: members.max_qty_t as number }));
              }}
            />
          )}
          {own && <Account balances={own.balances} />}
          {klass?.seat && <MyFirm api={api} firm={klass.seat} onDone={refreshClass} />}
          {own?.compliance && accountId && year !== null && (
            <CompliancePanel
              api={api}
              accountId={accountId}
              status={own.compliance}
              plan={own.plan}
              years={[...new Set([todayYear - 1, todayYear, year])].sort()}
              onYear={setYear}
              today={info.today}
              holdings={own.balances.holdings}
              onDone={() => {
                refreshOwn(true);
                refreshClass();
              }}
              classDeadline={
                klass && klass.compliance_year === year
                  ? { day: klass.deadline_day, daysLeft: klass.deadline_days_left }
                  : null
              }
            />
          )}
          {own && accountId && (
            <Cancellations api={api} accountId={accountId} holdings={own.balances.holdings} onDone={() => refreshOwn(true)} />
          )}
        </div>
      </div>
      <AuctionPanel
        api={api}
        feed={feed}
        accountId={accountId}
        timeZone={info.timeZone}
        balances={own?.balances ?? null}
        onDone={() => refreshOwn(true)}
        failed={failures.failed}
        succeeded={failures.succeeded}
      />
      <BlockDesk
        api={api}
        feed={feed}
        accountId={accountId}
        symbol={symbol}
        symbols={info.instruments.map((i) => i.symbol)}
        timeZone={info.timeZone}
        today={info.today}
        balances={own?.balances ?? null}
        onLimits={setBlock}
        failed={failures.failed}
        succeeded={failures.succeeded}
      />
      <NewsToast news={news} />
    </div>
  );
}
