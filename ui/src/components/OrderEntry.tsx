// The order ticket: limit, market, IOC and FOK orders. It shows the instrument's band, tick, lot
// and the most one order may be, and explains a refusal in plain words with its numbers.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { integer, parsePriceFen, parseTonnes, price, priceInput, t, tonnes } from "../i18n";
import type { Book } from "../market";
import { explain } from "../problems";
import { Panel } from "./Panel";

const ORDER_TYPES = ["limit", "market", "ioc", "fok"] as const;
type OrderType = (typeof ORDER_TYPES)[number];

interface Reply {
  order_id: number;
  fills: { qty_t: number }[];
}

export function OrderEntry(props: {
  api: Api;
  symbol: string;
  book: Book | null;
  maxQtyT: number | null;
  cashAvailableFen: number | null;
  sellableT: number | null;
  picked: { priceFen: number; n: number } | null;
  onDone: () => void;
  onRefused: (code: string, members: Record<string, unknown>) => void;
}) {
  const [side, setSide] = useState<"buy" | "sell">("buy");
  const [type, setType] = useState<OrderType>("limit");
  const [priceText, setPriceText] = useState("");
  const [qtyText, setQtyText] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const { book } = props;

  useEffect(() => {
    if (props.picked) setPriceText(priceInput(props.picked.priceFen));
  }, [props.picked]);
  // A new instrument: its best opposite quote (what a buy would pay, a sell would get), else
  // its reference price; never the last instrument's price, which may lie outside its band.
  useEffect(() => {
    if (!book) return;
    const opposite = side === "buy" ? book.asks[0] : book.bids[0];
    setPriceText(priceInput(opposite ? opposite.price_fen : book.reference_price_fen));
  }, [book?.symbol]);

  const priceFen = type === "market" ? null : parsePriceFen(priceText);
  const lot = book?.lot_t ?? 1;
  let affordable: number | null = null;
  if (side === "buy" && props.cashAvailableFen !== null) {
    const at = priceFen ?? book?.band_upper_fen ?? null; // a market buy may trade up to the band
    if (at) affordable = Math.floor(props.cashAvailableFen / at / lot) * lot;
  } else if (side === "sell" && props.sellableT !== null) {
    affordable = props.sellableT;
  }

  async function submit(event: Event) {
    event.preventDefault();
    setMessage(null);
    const qty = parseTonnes(qtyText);
    if (type !== "market" && priceFen === null) {
      setMessage({ ok: false, text: t("entry.needPrice") });
      return;
    }
    if (qty === null) {
      setMessage({ ok: false, text: t("entry.needQty") });
      return;
    }
    const body: Record<string, unknown> = {
      symbol: props.symbol,
      side,
      order_type: type,
      qty_t: qty,
      client_order_id: `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    };
    if (priceFen !== null) body.price_fen = priceFen;
    setBusy(true);
    try {
      const reply = await props.api.post<Reply>(props.api.m("/orders"), body);
      setMessage({ ok: true, text: placedText(reply, type, qty) });
      props.onDone();
    } catch (error) {
      setMessage({ ok: false, text: explain(error) });
      const problem = (error as { problem?: Record<string, unknown> }).problem;
      if (problem) props.onRefused(String(problem.code), problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Panel name="entry" title={t("entry.title")}>
      <form class="ticket" onSubmit={submit} data-testid="order-form">
        <div class="segmented wide" role="group" aria-label={t("entry.side")}>
          {(["buy", "sell"] as const).map((s) => (
            <button
              type="button"
              key={s}
              class={`${s} ${side === s ? "on" : ""}`}
              aria-pressed={side === s}
              data-testid={`side-${s}`}
              onClick={() => setSide(s)}
            >
              {t(`enum.${s}`)}
            </button>
          ))}
        </div>
        <label>
          {t("entry.type")}
          <select
            name="order_type"
            value={type}
            onChange={(e) => setType((e.target as HTMLSelectElement).value as OrderType)}
          >
            {ORDER_TYPES.map((ot) => (
              <option key={ot} value={ot}>
                {t(`enum.${ot}`)}
              </option>
            ))}
          </select>
        </label>
        <p class="muted small">{t(`entry.explain.${type}`)}</p>
        <label>
          {t("entry.price")}
          <input
            name="price"
            inputMode="decimal"
            disabled={type === "market"}
            value={type === "market" ? "" : priceText}
            placeholder={type === "market" ? t("entry.noPrice") : ""}
            onInput={(e) => setPriceText((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t("entry.qty")}
          <input
            name="qty"
            inputMode="numeric"
            value={qtyText}
            onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
          />
        </label>
        {book && (
          <dl class="facts small" data-testid="entry-facts">
            <dt>{t("entry.band")}</dt>
            <dd>
              {price(book.band_lower_fen)} – {price(book.band_upper_fen)}
            </dd>
            <dt>{t("entry.tick")}</dt>
            <dd>{price(book.tick_fen)}</dd>
            <dt>{t("entry.lot")}</dt>
            <dd>{tonnes(book.lot_t)}</dd>
            <dt>{t("entry.maxQty")}</dt>
            <dd>{props.maxQtyT === null ? t("value.unknown") : tonnes(props.maxQtyT)}</dd>
            {affordable !== null && (
              <>
                <dt>{side === "buy" ? t("entry.canBuy") : t("entry.canSell")}</dt>
                <dd>{tonnes(affordable)}</dd>
              </>
            )}
          </dl>
        )}
        <button type="submit" class={`primary ${side}`} disabled={busy} data-testid="place-order">
          {parseTonnes(qtyText) === null
            ? t(`enum.${side}`)
            : t(side === "buy" ? "entry.submitBuy" : "entry.submitSell", { qty: integer(parseTonnes(qtyText)!) })}
        </button>
        {message && (
          <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="entry-message">
            {message.text}
          </p>
        )}
      </form>
    </Panel>
  );
}

/** What became of a placed order, from its fills: a limit order rests with what did not trade;
 * market, IOC and FOK orders cancel it (FOK trades all or nothing). */
export function placedText(reply: Reply, type: OrderType, qtyT: number): string {
  const filled = reply.fills.reduce((sum, f) => sum + f.qty_t, 0);
  const left = qtyT - filled;
  const order_id = reply.order_id;
  if (left <= 0) return t("entry.placedFilled", { order_id, filled_t: filled });
  if (type === "limit") {
    return filled
      ? t("entry.partRests", { order_id, filled_t: filled, left_t: left })
      : t("entry.placed", { order_id });
  }
  return filled
    ? t("entry.partCancelled", { order_id, filled_t: filled, left_t: left, type })
    : t("entry.noneCancelled", { order_id, type });
}
