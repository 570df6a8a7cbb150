// Point-select (摘牌): the quotes resting at the ladder level the trainee chose, with their
// quantities, and a Take button for each: an offer is bought, a bid is sold, at the quote's
// price, for the quantity typed (the whole quote unless changed). The market's rules say which
// levels may be taken (the best five, nationally); a refusal is explained with its numbers.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { integer, parseTonnes, price, t } from "../i18n";
import { explain } from "../problems";

interface LevelQuotes {
  symbol: string;
  side: "buy" | "sell";
  price_fen: number;
  level: number | null;
  matching: string;
  take_levels: number;
  strict_price_priority: boolean;
  quotes: { order_id: number; qty_t: number; own: boolean }[];
}

interface Taken {
  order_id: number;
  fills: { price_fen: number; qty_t: number }[];
}

export interface PickedLevel {
  side: "bid" | "ask";
  priceFen: number;
  n: number; // a new pick of the same level reads it again
}

export function QuotePicker(props: {
  api: Api;
  symbol: string;
  level: PickedLevel;
  version: number; // the book changed: read the level again
  onClose: () => void;
  onTaken: () => void;
}) {
  const { api, symbol, level } = props;
  const quoteSide = level.side === "ask" ? "sell" : "buy";
  const takerSide = level.side === "ask" ? "buy" : "sell";
  const [view, setView] = useState<LevelQuotes | null>(null);
  const [qtyText, setQtyText] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    const path = `/book/${encodeURIComponent(symbol)}/quotes?side=${quoteSide}&price_fen=${level.priceFen}`;
    api.get<LevelQuotes>(api.m(path)).then(
      (v) => {
        if (!live) return;
        setView(v);
        setQtyText((text) => (text === "" && v.quotes.length ? String(firstTakable(v)?.qty_t ?? "") : text));
      },
      (error) => live && setMessage({ ok: false, text: explain(error) }),
    );
    return () => {
      live = false;
    };
  }, [symbol, quoteSide, level.priceFen, level.n, props.version]);
  useEffect(() => {
    setMessage(null);
    setQtyText("");
  }, [symbol, quoteSide, level.priceFen, level.n]);

  async function take(orderId: number) {
    setMessage(null);
    const qty = parseTonnes(qtyText);
    if (qty === null) {
      setMessage({ ok: false, text: t("entry.needQty") });
      return;
    }
    setBusy(true);
    try {
      const reply = await api.post<Taken>(api.m(`/orders/${orderId}/take`), {
        qty_t: qty,
        client_order_id: `ui-take-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      });
      const filled = reply.fills.reduce((sum, f) => sum + f.qty_t, 0);
      setMessage({
        ok: true,
        text: t("take.done", {
          qty_t: filled,
          quote_id: orderId,
          price_fen: reply.fills[0]?.price_fen ?? level.priceFen,
          order_id: reply.order_id,
        }),
      });
      props.onTaken();
    } catch (error) {
      setMessage({ ok: false, text: explain(error) });
    } finally {
      setBusy(false);
    }
  }

  const offered = view !== null && view.take_levels > 0;
  const beyond = offered && view.level !== null && view.level > view.take_levels;
  const heading = t(level.side === "ask" ? "take.levelAsk" : "take.levelBid", { price_fen: level.priceFen });
  const qty = parseTonnes(qtyText);
  return (
    <section class="take" data-testid="take-panel" aria-label={t("take.title")}>
      <div class="take-head">
        <h3>{t("take.title")}</h3>
        <button type="button" class="link" onClick={props.onClose} data-testid="take-close">
          {t("take.close")}
        </button>
      </div>
      <p class="small">{heading}</p>
      {view && !offered && <p class="muted small">{t("take.notOffered")}</p>}
      {offered && view.level !== null && (
        <p class="muted small" data-testid="take-level">
          {t("take.rank", { level: view.level, take_levels: view.take_levels })}
          {view.strict_price_priority ? ` ${t("take.strict")}` : ""}
        </p>
      )}
      {offered && beyond && <p class="error small">{t("take.beyond", { take_levels: view.take_levels })}</p>}
      {view && offered && view.quotes.length === 0 && (
        <p class="muted small">{t("take.gone", { price_fen: level.priceFen })}</p>
      )}
      {view && offered && view.quotes.length > 0 && (
        <>
          <label class="take-qty">
            {t("take.qty")}
            <input
              name="take_qty"
              inputMode="numeric"
              value={qtyText}
              data-testid="take-qty"
              onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
            />
          </label>
          <table class="quotes" data-testid="take-quotes">
            <thead>
              <tr>
                <th>{t("take.quoteHead")}</th>
                <th class="num">{t("ladder.price")}</th>
                <th class="num">{t("ladder.qty")}</th>
                <th>
                  <span class="sr-only">{t("take.action")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {view.quotes.map((q) => (
                <tr key={q.order_id} data-testid="take-quote">
                  <td>{t("take.quote", { order_id: q.order_id })}</td>
                  <td class="num">{price(view.price_fen)}</td>
                  <td class="num">{integer(q.qty_t)}</td>
                  <td>
                    {q.own ? (
                      <span class="muted small">{t("take.own")}</span>
                    ) : (
                      <button
                        type="button"
                        class={`primary ${takerSide}`}
                        disabled={busy || beyond}
                        data-testid={`take-${q.order_id}`}
                        aria-label={t(takerSide === "buy" ? "take.buyLabel" : "take.sellLabel", {
                          qty_t: qty ?? q.qty_t,
                          price_fen: view.price_fen,
                          order_id: q.order_id,
                        })}
                        onClick={() => void take(q.order_id)}
                      >
                        {t(takerSide === "buy" ? "take.buy" : "take.sell")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted small">{t("take.explain")}</p>
        </>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="take-message">
          {message.text}
        </p>
      )}
    </section>
  );
}

function firstTakable(view: LevelQuotes) {
  return view.quotes.find((q) => !q.own) ?? null;
}
