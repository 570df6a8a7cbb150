// The classroom API as the instructor console reads it (exchange/api/routes/classroom.py and
// exchange/classroom/; contract: createClassMarket, getClassPhase, advanceClassPhase,
// announcements, getClassDashboard, getClassResults, listSeats, issueSeatKeys, getReplay,
// getReplayTimeline). Shapes are read loosely: a field the server does not send shows as "—"
// rather than breaking the console.
import { type Api, ApiProblem } from "../../api";
import { locale } from "../../i18n";
import type { Level } from "../../market";

export type Loose = Record<string, unknown>;

export interface Seat {
  seat: number | string;
  account_id: string;
  name?: string;
  name_zh?: string;
  key?: string;
  gas_fired?: boolean; // its units are gas-fired (燃气机组)
}

/** A name the server gives in both languages (``name``, ``name_zh``), in the UI's language. */
export function nameIn(row: { name?: unknown; name_zh?: unknown }): string | undefined {
  const pick = locale() === "zh-CN" && typeof row.name_zh === "string" && row.name_zh ? row.name_zh : row.name;
  return typeof pick === "string" && pick ? pick : undefined;
}

export interface ClassCreated {
  market_id: string;
  scenario: string;
  seats: Seat[];
  operator_key: string;
  bots: { account_id: string; kind: string }[];
  phase: string;
}

export interface ClassPhase {
  phase: string;
  compliance_year: number | null;
  deadline: string | null;
  next_phase: string | null;
}

export interface AnnouncementRow {
  id: number | string;
  ts_ns?: number;
  text: string;
  level?: string;
}

export interface RankRow {
  account_id: string;
  name?: string;
  name_zh?: string;
  seat?: number | string | null;
  gas_fired: boolean;
  verified_t: number | null;
  obligation_t: number | null;
  surrendered_t: number | null;
  shortfall_t: number | null;
  projected_penalty_fen: number | null;
  cash_fen: number | null;
  pnl_fen?: number | null;
}

export interface InstrumentStats {
  symbol: string;
  last_price_fen: number | null;
  open_fen: number | null;
  high_fen: number | null;
  low_fen: number | null;
  volume_t: number;
  trade_count: number | null;
}

export interface Dashboard {
  instruments: InstrumentStats[];
  trades_today: number | null;
  participation: { ordered: number | null; traded: number | null; seats: number | null };
  ranking: RankRow[];
}

export interface ReplayBook {
  symbol: string;
  state?: string;
  bids: Level[];
  asks: Level[];
}

export interface ReplayTrade {
  trade_id?: number;
  seq?: number;
  ts_ns: number;
  symbol: string;
  price_fen: number;
  qty_t: number;
}

export interface ReplayView {
  seq: number;
  last_seq: number;
  trading_day: string | null;
  session: string | null;
  ts_ns: number | null;
  books: ReplayBook[];
  trades: ReplayTrade[];
}

export interface TimelineEntry {
  seq: number;
  ts_ns: number;
  kind: string;
  count?: number;
}

/** A class endpoint's answer, or ``null`` when the market is not a class (``NOT_A_CLASS``) or
 * the server has no such endpoint: the console then hides that part. */
export async function classOptional<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiProblem && ["NOT_A_CLASS", "NOT_FOUND", "METHOD_NOT_ALLOWED"].includes(error.code)) return null;
    throw error;
  }
}

const num = (value: unknown): number | null => (typeof value === "number" ? value : null);
const str = (value: unknown): string | null => (typeof value === "string" && value ? value : null);
const list = (value: unknown): Loose[] => (Array.isArray(value) ? (value as Loose[]) : []);

/** The first of ``names`` that ``raw`` carries as a list (the contract names the idea, not
 * always the member). */
function listOf(raw: Loose, ...names: string[]): Loose[] {
  for (const name of names) if (Array.isArray(raw[name])) return raw[name] as Loose[];
  return [];
}

export function phaseOf(raw: Loose): ClassPhase {
  return {
    phase: str(raw.phase) ?? "unknown",
    compliance_year: num(raw.compliance_year),
    deadline: str(raw.deadline),
    next_phase: str(raw.next_phase),
  };
}

function statsOf(raw: Loose): InstrumentStats {
  const day = (raw.day as Loose | undefined) ?? raw;
  return {
    symbol: str(raw.symbol) ?? "",
    last_price_fen: num(raw.last_price_fen) ?? num(raw.last_fen),
    open_fen: num(day.open_fen),
    high_fen: num(day.high_fen),
    low_fen: num(day.low_fen),
    volume_t: num(day.volume_t) ?? 0,
    trade_count: num(day.trade_count) ?? num(raw.trades_today),
  };
}

function rankOf(raw: Loose): RankRow {
  return {
    account_id: str(raw.account_id) ?? "",
    name: str(raw.name) ?? undefined,
    name_zh: str(raw.name_zh) ?? undefined,
    seat: (raw.seat as number | string | null | undefined) ?? null,
    gas_fired: raw.gas_fired === true,
    verified_t: num(raw.verified_t),
    obligation_t: num(raw.obligation_t),
    surrendered_t: num(raw.surrendered_t),
    shortfall_t: num(raw.shortfall_t),
    projected_penalty_fen: num(raw.projected_penalty_fen),
    cash_fen: num(raw.cash_fen),
    pnl_fen: num(raw.pnl_fen),
  };
}

export function dashboardOf(raw: Loose): Dashboard {
  const part = (raw.participation as Loose | undefined) ?? {};
  return {
    instruments: listOf(raw, "instruments", "prices").map(statsOf),
    trades_today: num(raw.trades_today),
    participation: {
      ordered: num(part.ordered) ?? num(part.placed_order) ?? num(part.ordered_accounts),
      traded: num(part.traded) ?? num(part.traded_accounts),
      seats: num(part.seats) ?? num(part.of) ?? num(part.total),
    },
    ranking: listOf(raw, "ranking", "compliance").map(rankOf),
  };
}

function levelsOf(value: unknown): Level[] {
  return list(value).map((l) => ({
    price_fen: num(l.price_fen) ?? 0,
    qty_t: num(l.qty_t) ?? 0,
    order_count: num(l.order_count) ?? 0,
  }));
}

export function replayOf(raw: Loose): ReplayView {
  const books = raw.books ?? raw.instruments;
  const bookRows: Loose[] = Array.isArray(books)
    ? (books as Loose[])
    : Object.entries((books as Record<string, Loose> | undefined) ?? {}).map(([symbol, b]) => ({ symbol, ...b }));
  return {
    seq: num(raw.seq) ?? 0,
    last_seq: num(raw.last_seq) ?? num(raw.journal_last_seq) ?? 0,
    trading_day: str(raw.trading_day),
    session: str(raw.session),
    ts_ns: num(raw.ts_ns),
    books: bookRows.map((b) => ({
      symbol: str(b.symbol) ?? "",
      state: str(b.state) ?? undefined,
      bids: levelsOf(b.bids),
      asks: levelsOf(b.asks),
    })),
    trades: listOf(raw, "trades").map((tr) => ({
      trade_id: num(tr.trade_id) ?? undefined,
      seq: num(tr.seq) ?? undefined,
      ts_ns: num(tr.ts_ns) ?? 0,
      symbol: str(tr.symbol) ?? "",
      price_fen: num(tr.price_fen) ?? 0,
      qty_t: num(tr.qty_t) ?? 0,
    })),
  };
}

/** getReplayTimeline's day and session steps and its per-minute trade counts, as one list in
 * journal order. */
export function timelineOf(raw: Loose | Loose[]): { entries: TimelineEntry[]; lastSeq: number | null } {
  const rows = Array.isArray(raw) ? raw : [...listOf(raw, "events", "timeline"), ...listOf(raw, "trade_minutes")];
  const entries = rows
    .map((e) => ({
      seq: num(e.seq) ?? 0,
      ts_ns: num(e.ts_ns) ?? 0,
      kind: str(e.kind) ?? "",
      count: num(e.count) ?? num(e.trades) ?? undefined,
    }))
    .sort((a, b) => a.seq - b.seq);
  return { entries, lastSeq: Array.isArray(raw) ? null : num(raw.last_seq) };
}

export function seatsOf(raw: Loose | Loose[]): Seat[] {
  const rows = Array.isArray(raw) ? raw : listOf(raw, "seats");
  return rows.map((s) => ({
    seat: (s.seat as number | string | undefined) ?? "",
    account_id: str(s.account_id) ?? "",
    name: str(s.name) ?? undefined,
    name_zh: str(s.name_zh) ?? undefined,
    key: str(s.key) ?? undefined,
    gas_fired: typeof s.gas_fired === "boolean" ? s.gas_fired : undefined,
  }));
}

export function announcementsOf(raw: Loose | Loose[]): AnnouncementRow[] {
  const rows = Array.isArray(raw) ? raw : listOf(raw, "announcements");
  return rows.map((a) => ({
    id: (a.id as number | string | undefined) ?? "",
    ts_ns: num(a.ts_ns) ?? undefined,
    text: str(a.text) ?? "",
    level: str(a.level) ?? undefined,
  }));
}

/** The class endpoints under the session's market. */
export const classPaths = {
  create: "/v1/markets/from-scenario",
  phase: (api: Api) => api.m("/class/phase"),
  advance: (api: Api) => api.m("/class/phase/advance"),
  dashboard: (api: Api) => api.m("/class/dashboard"),
  results: (api: Api) => api.m("/class/results"),
  seats: (api: Api) => api.m("/class/seats"),
  seatKeys: (api: Api) => api.m("/class/seats/keys"),
  announcements: (api: Api) => api.m("/announcements"),
  replay: (api: Api, seq: number) => api.m(`/replay?seq=${seq}`),
  timeline: (api: Api) => api.m("/replay/timeline"),
};

/** Save ``text`` as a file the browser downloads (CSV exports). */
export function download(filename: string, text: string, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** One CSV line (RFC 4180 quoting). */
export function csvLine(cells: (string | number | null | undefined)[]): string {
  return cells
    .map((cell) => {
      const text = cell === null || cell === undefined ? "" : String(cell);
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(",");
}
