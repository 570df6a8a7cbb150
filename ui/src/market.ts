// The shapes the API answers (exchange/api/models.py) and small pure helpers over them.
export interface Level {
  price_fen: number;
  qty_t: number;
  order_count: number;
}

export interface Book {
  symbol: string;
  state: string;
  reference_price_fen: number;
  band_lower_fen: number;
  band_upper_fen: number;
  tick_fen: number;
  lot_t: number;
  bids: Level[];
  asks: Level[];
}

export interface Trade {
  trade_id: number;
  ts_ns: number;
  symbol: string;
  price_fen: number;
  qty_t: number;
  aggressor: "buy" | "sell";
}

/** A listTrades item: a listed trade, or a block agreement deal (大宗协议: ``mode`` block, no
 * aggressor), which the listed quotes (the tape, the bars) leave out, as the exchange does. */
export type TapeEntry = Omit<Trade, "aggressor"> & { aggressor: Trade["aggressor"] | null; mode?: "listed" | "block" };

export function isListed(entry: TapeEntry): entry is Trade {
  return entry.mode !== "block" && entry.aggressor !== null;
}

export interface Order {
  order_id: number;
  symbol: string;
  side: "buy" | "sell";
  order_type: string;
  price_fen: number | null;
  submitted_t: number;
  filled_t: number;
  leaves_t: number;
  status: string;
  cancel_reason?: string | null;
}

export interface AccountFill {
  trade_id: number;
  ts_ns: number;
  symbol: string;
  side: "buy" | "sell";
  order_id: number;
  price_fen: number;
  qty_t: number;
  fee_fen: number;
}

export interface Holding {
  unit: string;
  name?: Record<string, string>; // display name by language (getBalances)
  available_t: number;
  held_t: number;
  pending_t: number;
  frozen_t: number;
  sellable_t: number;
}

export interface Balances {
  account_id: string;
  cash: { available_fen: number; held_fen: number; withdrawable_fen: number };
  holdings: Holding[];
}

export interface Compliance {
  account_id: string;
  year: number;
  obligation_t: number | null;
  allowances_t: number;
  offsets_t: number;
  pending_t: number;
  remaining_t: number | null; // the obligation less what was surrendered
  coverable_t: number; // what available units can legally cover of the rest today
  offset_cap_t: number | null;
  offset_cap_left_t: number | null;
  shortfall_t: number | null; // still missing after surrendering all that counts
  projected_penalty_fen: number | null; // priced by the server on the basis below
  deadline: string;
  assessed: unknown;
  deduction_owed_t: number;
  reference_price_fen: number | null;
  reference_price_basis: "request" | "window_vwap" | "last_close" | "assessed" | null;
  reference_price_symbol: string | null;
  penalty_kind: string;
  penalty_multiplier: number;
}

export interface Bar {
  time: number; // seconds, shifted to the market's wall clock for the chart
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A book channel message's levels onto one side of a view, by price: a ``book_snapshot``'s
 * (after clearing the side) or a ``book_delta``'s, where ``qty_t`` 0 removes the level (gone,
 * or pushed below the depth) and any other sets it (changed, or come up into the depth). */
export function applyLevels(side: Map<number, Level>, levels: Level[]): void {
  for (const { price_fen, qty_t, order_count } of levels) {
    if (qty_t === 0) side.delete(price_fen);
    else side.set(price_fen, { price_fen, qty_t, order_count });
  }
}

export const INTERVALS = ["1m", "5m", "15m", "1h", "1d"] as const;
export type Interval = (typeof INTERVALS)[number];
const INTERVAL_S: Record<Interval, number> = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400 };

/** Seconds to add to UTC to read the wall clock of ``timeZone`` at ``ms``: the chart library
 * shows timestamps as UTC, so bars are shifted to show the market's local time. */
export function zoneOffsetS(timeZone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((local - Math.floor(ms / 1000) * 1000) / 1000);
}

/** Bars from trades (oldest first), bucketed on the market's wall clock, the way the server's
 * exchange/bars.py does: the fallback when the server has no getBars yet. */
export function barsFromTrades(trades: Trade[], interval: Interval, timeZone: string): Bar[] {
  const size = INTERVAL_S[interval];
  const bars: Bar[] = [];
  for (const trade of trades) {
    const utcS = Math.floor(trade.ts_ns / 1e9);
    const local = utcS + zoneOffsetS(timeZone, trade.ts_ns / 1e6);
    addTrade(bars, local - (local % size), trade.price_fen, trade.qty_t);
  }
  return bars;
}

/** Fold one trade into the bars (a new bar when its bucket is later than the last one). */
export function addTrade(bars: Bar[], time: number, priceFen: number, qty: number): void {
  const last = bars[bars.length - 1];
  if (last && last.time === time) {
    last.high = Math.max(last.high, priceFen);
    last.low = Math.min(last.low, priceFen);
    last.close = priceFen;
    last.volume += qty;
  } else if (!last || time > last.time) {
    bars.push({ time, open: priceFen, high: priceFen, low: priceFen, close: priceFen, volume: qty });
  }
}

export function bucketOf(tsNs: number, interval: Interval, timeZone: string): number {
  const size = INTERVAL_S[interval];
  const local = Math.floor(tsNs / 1e9) + zoneOffsetS(timeZone, tsNs / 1e6);
  return local - (local % size);
}

/** A bar as the server's getBars answers it (exchange/bars.py), shifted for the chart. */
export function barFromServer(raw: Record<string, number>, timeZone: string): Bar {
  const startNs = raw.start_ns;
  return {
    time: Math.floor(startNs / 1e9) + zoneOffsetS(timeZone, startNs / 1e6),
    open: raw.open_fen,
    high: raw.high_fen,
    low: raw.low_fen,
    close: raw.close_fen,
    volume: raw.volume_t,
  };
}

/** What a unit code names: CEA of a vintage ("CEA2025") or an offset ("CCER:<project>:<vintage>"). */
export function unitParts(code: string): { kind: string; vintage: string; project: string | null } {
  const offset = /^([A-Z]+):(.+):(\d{4})$/.exec(code);
  if (offset) return { kind: offset[1], project: offset[2], vintage: offset[3] };
  const allowance = /^([A-Z]+?)(\d{4})$/.exec(code);
  if (allowance) return { kind: allowance[1], project: null, vintage: allowance[2] };
  return { kind: code, project: null, vintage: "" };
}

/** Days from ``today`` to ``deadline`` (both ISO dates). */
export function daysBetween(today: string, deadline: string): number {
  return Math.round((Date.parse(deadline) - Date.parse(today)) / 86_400_000);
}
