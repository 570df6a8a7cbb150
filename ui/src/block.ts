// Block agreement trades (大宗协议): the shapes the block operations answer
// (exchange/api/block_models.py), the `block` channel's messages folded into one view
// (docs/api-ws.md), and the checks a quote's or negotiation's terms must pass, which the
// screens show before sending, in the words and with the numbers of the refusal the server
// would answer (docs/api-errors.md, BLOCK_*).
import { ApiProblem } from "./api";
import type { Message } from "./ws";

export type Side = "buy" | "sell";

export interface BlockQuote {
  quote_id: number;
  symbol: string;
  side: Side; // the poster's side
  price_fen: number | null; // null: hidden from this key (the rule set hides board prices)
  qty_t: number; // what is left to deal
  account_id: string; // the poster
  counterparty: string | null; // a directed quote's, shown to its parties and operators
  ts_ns: number;
  mine: boolean;
}

export interface BlockBand {
  symbol: string;
  reference_price_fen: number;
  lower_fen: number;
  upper_fen: number;
}

/** The mode's limits as the board gives them (listBlockQuotes without its quotes). */
export interface BlockLimits {
  offered: boolean;
  trading_day: string | null;
  min_qty_t: number | null;
  band_bp: number | null;
  sessions: string[][]; // [["13:00", "15:00"]], local times
  timezone: string;
  open_now: boolean;
  directed: boolean;
  board_prices: boolean;
  bands: BlockBand[];
  negotiations_open: number | null; // operators only
}

export interface BlockBoard extends BlockLimits {
  quotes: BlockQuote[];
}

export interface BlockNegotiation {
  negotiation_id: number;
  quote_id: number;
  symbol: string;
  side: Side; // the viewer's side of the deal it would make
  role: "poster" | "opener";
  counterparty: string;
  price_fen: number; // the latest terms
  qty_t: number;
  proposed_by: string;
  my_turn: boolean;
  rounds: number;
  ts_ns: number;
}

export interface BlockDeal {
  deal_id: number;
  seq: number;
  ts_ns: number;
  trading_day: string;
  symbol: string;
  price_fen: number;
  qty_t: number;
  buy_account_id: string;
  sell_account_id: string;
  buy_fee_fen: number;
  sell_fee_fen: number;
  quote_id: number;
  negotiation_id: number | null;
}

/** The board as the feed has told it: the quotes and (a participant's) negotiations, as of
 * the snapshot's market_seq (``base``: messages up to it are in the snapshot), then each later
 * message's (one command may make several: a deal, then its quote closed). */
export interface BlockView {
  base: number;
  quotes: BlockQuote[]; // oldest first
  negotiations: BlockNegotiation[]; // oldest first
}

export const EMPTY_VIEW: BlockView = { base: 0, quotes: [], negotiations: [] };

// A quote's events after which it is off the board, and a negotiation's after which it is over.
const QUOTE_GONE = new Set(["cancelled", "done", "closed", "expired"]);
const NEGOTIATION_OVER = new Set(["ended", "expired", "dealt"]);

function put<T>(items: T[], item: T, id: (x: T) => number): T[] {
  const rest = items.filter((x) => id(x) !== id(item));
  return [...rest, item].sort((a, b) => id(a) - id(b));
}

/** One `block` channel message onto the view: a ``block_board`` replaces it; a
 * ``block_quote`` or ``block_negotiation`` after the snapshot sets or removes its item.
 * Answers the view unchanged (the same object) for anything else. */
export function applyBlock(view: BlockView, message: Message): BlockView {
  const seq = Number(message.market_seq);
  if (message.type === "block_board") {
    return {
      base: seq,
      quotes: [...((message.quotes as BlockQuote[]) ?? [])].sort((a, b) => a.quote_id - b.quote_id),
      negotiations: [...((message.negotiations as BlockNegotiation[]) ?? [])].sort(
        (a, b) => a.negotiation_id - b.negotiation_id,
      ),
    };
  }
  if (seq <= view.base) return view;
  if (message.type === "block_quote") {
    const quote = message.quote as BlockQuote;
    const quotes = QUOTE_GONE.has(String(message.event))
      ? view.quotes.filter((q) => q.quote_id !== quote.quote_id)
      : put(view.quotes, quote, (q) => q.quote_id);
    return { ...view, quotes };
  }
  if (message.type === "block_negotiation") {
    const negotiation = message.negotiation as BlockNegotiation;
    const negotiations = NEGOTIATION_OVER.has(String(message.event))
      ? view.negotiations.filter((n) => n.negotiation_id !== negotiation.negotiation_id)
      : put(view.negotiations, negotiation, (n) => n.negotiation_id);
    return { ...view, negotiations };
  }
  return view;
}

/** A deal from the feed onto the list (most recent first), once. */
export function addDeal(deals: BlockDeal[], deal: BlockDeal): BlockDeal[] {
  if (deals.some((d) => d.deal_id === deal.deal_id)) return deals;
  return [deal, ...deals].sort((a, b) => b.deal_id - a.deal_id);
}

/** The limits a board message carries (``block_board``, or listBlockQuotes' reply). */
export function limitsOf(reply: BlockBoard | Record<string, unknown>): BlockLimits {
  const board = reply as Record<string, unknown>;
  return {
    offered: Boolean(board.offered),
    trading_day: (board.trading_day as string | null) ?? null,
    min_qty_t: (board.min_qty_t as number | null) ?? null,
    band_bp: (board.band_bp as number | null) ?? null,
    sessions: (board.sessions as string[][]) ?? [],
    timezone: String(board.timezone ?? ""),
    open_now: Boolean(board.open_now),
    directed: Boolean(board.directed),
    board_prices: Boolean(board.board_prices),
    bands: (board.bands as BlockBand[]) ?? [],
    negotiations_open: (board.negotiations_open as number | null) ?? null,
  };
}

export interface Terms {
  symbol: string;
  priceFen: number | null; // null: not typed yet, or taken from the quote
  qtyT: number | null;
  quote?: BlockQuote; // accepting or negotiating on it: at most what is left of it
  counterparty?: string | null; // a directed quote's, typed
  me?: string | null;
}

/** What the server would refuse in these terms, as the refusals it would answer (code and
 * numbers), checked before sending: the block session closed, a quantity below the mode's
 * minimum or over what is left of the quote, a price outside today's block band, a quote
 * directed to oneself. Only what was typed is checked; the session always. */
export function checkTerms(limits: BlockLimits, terms: Terms): ApiProblem[] {
  const found: ApiProblem[] = [];
  const refuse = (code: string, numbers: Record<string, unknown>) =>
    found.push(new ApiProblem({ status: 409, code, ...numbers }));
  if (!limits.open_now) refuse("BLOCK_SESSION_CLOSED", { sessions: limits.sessions, timezone: limits.timezone });
  const { qtyT, priceFen } = terms;
  if (qtyT !== null && limits.min_qty_t !== null && qtyT < limits.min_qty_t)
    refuse("BLOCK_BELOW_MINIMUM", { qty_t: qtyT, min_qty_t: limits.min_qty_t });
  if (qtyT !== null && terms.quote && qtyT > terms.quote.qty_t)
    refuse("BLOCK_QTY_OVER_QUOTE", { quote_id: terms.quote.quote_id, qty_t: qtyT, quote_qty_t: terms.quote.qty_t });
  const band = limits.bands.find((b) => b.symbol === terms.symbol);
  if (priceFen !== null && band && (priceFen < band.lower_fen || priceFen > band.upper_fen))
    refuse("BLOCK_OUTSIDE_BAND", {
      price_fen: priceFen,
      lower_fen: band.lower_fen,
      upper_fen: band.upper_fen,
      reference_fen: band.reference_price_fen,
      band_bp: limits.band_bp,
    });
  if (terms.counterparty && terms.me && terms.counterparty === terms.me)
    refuse("BLOCK_OWN_QUOTE", { counterparty: terms.counterparty });
  return found;
}

/** The taker's side against a quote: the other side of the poster's. */
export function takerSide(quote: BlockQuote): Side {
  return quote.side === "buy" ? "sell" : "buy";
}
