// What the screen needs to know about the market beyond the order book: its time zone, the
// trading day, and its instruments with their per-order limits. Planned endpoints (getMarket,
// getClock, listInstruments) are used when the server has them; otherwise the instruments are
// found from the tape and the account's holdings, and the clock is the browser's.
import { type Api, optional } from "../api";
import type { Balances, Book, Trade } from "../market";
import { type UnitName, rememberNames } from "../names";

export interface InstrumentInfo {
  symbol: string;
  maxQtyT: number | null;
}

export interface MarketInfo {
  timeZone: string;
  today: string; // the market's trading day, ISO
  instruments: InstrumentInfo[];
}

type Loose = Record<string, unknown>;

function isoToday(timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    new Date(),
  );
}

function str(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}

/** An instrument as listInstruments answers it: its symbol and the continuous mode's largest
 * order (``max_qty_t``, at the top or under the mode). */
function instrumentOf(raw: Loose): InstrumentInfo | null {
  const symbol = str(raw.symbol);
  if (!symbol) return null;
  let max = num(raw.max_qty_t);
  const modes = raw.modes as Record<string, Loose> | undefined;
  if (max === null && modes && typeof modes === "object") {
    const mode = modes[str(raw.book_mode) ?? "listed"] ?? Object.values(modes)[0];
    max = mode ? num(mode.max_qty_t) : null;
  }
  return { symbol, maxQtyT: max };
}

async function soft<T>(call: Promise<T>): Promise<T | null> {
  return optional(call).catch(() => null);
}

/** The market's clock state, when the server has getClock: the trading day and time zone. */
export async function loadClock(api: Api): Promise<{ today: string | null; timeZone: string | null }> {
  const clock = await soft(api.get<Loose>(api.m("/clock")));
  return {
    today: str(clock?.trading_day) ?? str((clock?.now as string | undefined)?.slice(0, 10)),
    timeZone: str(clock?.timezone),
  };
}

export async function loadMarketInfo(api: Api, marketId: string, accountId: string | null): Promise<MarketInfo> {
  const [market, clock, listed] = await Promise.all([
    soft(api.get<Loose>(`/v1/markets/${encodeURIComponent(marketId)}`)),
    loadClock(api),
    soft(api.get<Loose | Loose[]>(api.m("/instruments"))),
  ]);
  const timeZone =
    str(market?.timezone) ?? clock.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  const today = clock.today ?? str(market?.trading_day) ?? isoToday(timeZone);
  let instruments: InstrumentInfo[] = [];
  const rows = Array.isArray(listed) ? listed : (listed?.instruments as Loose[] | undefined);
  if (rows) {
    rememberNames(rows as { symbol?: string; name?: UnitName }[]); // their display names
    instruments = rows.map(instrumentOf).filter((i): i is InstrumentInfo => i !== null);
  }
  if (!instruments.length) instruments = await discoverInstruments(api, accountId);
  return { timeZone, today, instruments };
}

/** Without listInstruments: the symbols on the tape and the account's allowance holdings, kept
 * if the market has a book for them. */
async function discoverInstruments(api: Api, accountId: string | null): Promise<InstrumentInfo[]> {
  const candidates = new Set<string>();
  const tape = await soft(api.get<{ trades: Trade[] }>(api.m("/trades?limit=500")));
  for (const trade of tape?.trades ?? []) candidates.add(trade.symbol);
  if (accountId) {
    const balances = await soft(api.get<Balances>(api.m(`/accounts/${encodeURIComponent(accountId)}/balances`)));
    rememberNames(balances?.holdings ?? []);
    for (const holding of balances?.holdings ?? []) candidates.add(holding.unit);
  }
  const found = await Promise.all(
    [...candidates].sort().map(async (symbol): Promise<InstrumentInfo | null> => {
      const book = await soft(api.get<Book>(api.m(`/book/${encodeURIComponent(symbol)}`)));
      return book ? { symbol, maxQtyT: null } : null;
    }),
  );
  return found.filter((i): i is InstrumentInfo => i !== null);
}
