// "My firm" in a class: the seat's emissions, allocation, what it holds for the year and
// whether that leaves it long or short, whether its units are gas-fired (燃气机组: topped up to
// its verified emissions at verification where the class's allocation does that), its
// abatement with the marginal cost and the maximum,
// and, while abatement is open, the abate-or-buy choice in numbers: a quantity's cost from the
// firm's curve (quoteAbatement) beside what buying as much would cost now, then a confirmed
// declaration (declareAbatement). After assessment, the seat's own result. The numbers are
// the server's (getMyClassSeat; docs/classroom.md); the card only shows them.
import { useEffect, useState } from "preact/hooks";
import { type Api, optional } from "../api";
import type { AbatementQuote, SeatFirm } from "../classroom";
import { locale, money, parseTonnes, t, tonnes } from "../i18n";
import { explain } from "../problems";
import { Panel } from "./Panel";
import "./classroom.css";

const QUOTE_DELAY_MS = 250;

/** What an allowance of the year costs now: the best offer, else the last trade, else the
 * reference price (getQuote). */
interface AllowancePrice {
  price_fen: number;
  basis: "ask" | "last" | "reference";
}

/** Long or short, with what can still be done about it: abate or buy while abatement is open,
 * buy once it is closed (verification), nothing once the year is assessed. */
function positionText(firm: SeatFirm): string {
  const position = firm.position_t;
  const assessed = firm.result !== null;
  if (position > 0) return t(assessed ? "firm.longAssessed" : "firm.long", { qty_t: position });
  if (position < 0) {
    const key = assessed ? "firm.shortAssessed" : firm.abatement.open ? "firm.short" : "firm.shortClosed";
    return t(key, { qty_t: -position });
  }
  return t("firm.even");
}

export function MyFirm(props: { api: Api; firm: SeatFirm; onDone: () => void }) {
  const { api, firm } = props;
  const { abatement } = firm;
  const [price, setPrice] = useState<AllowancePrice | null>(null);
  const [qtyText, setQtyText] = useState("");
  const [quote, setQuote] = useState<AbatementQuote | null>(null);
  // Words made when shown, so that they follow the language toggle.
  const [message, setMessage] = useState<{ ok: boolean; text: () => string } | null>(null);
  const [asked, setAsked] = useState<AbatementQuote | null>(null);
  const [busy, setBusy] = useState(false);
  const symbol = `CEA${firm.year}`;

  // Once abatement closes (verification), a word about the last declaration is old news.
  useEffect(() => {
    if (!abatement.open) setMessage(null);
  }, [abatement.open]);

  // The allowance's price now, with each refresh of the card.
  useEffect(() => {
    let live = true;
    optional(api.get<Record<string, number | null>>(api.m(`/quotes/${encodeURIComponent(symbol)}`)))
      .then((q) => {
        if (!live || !q) return;
        const ask = q.ask_price_fen ?? null;
        const last = q.last_price_fen ?? null;
        const reference = q.reference_price_fen ?? null;
        if (ask !== null) setPrice({ price_fen: ask, basis: "ask" });
        else if (last !== null) setPrice({ price_fen: last, basis: "last" });
        else if (reference !== null) setPrice({ price_fen: reference, basis: "reference" });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, symbol, firm]);

  // The typed quantity's cost, once typing pauses.
  const qty = parseTonnes(qtyText);
  useEffect(() => {
    setQuote(null);
    if (qty === null || !abatement.open) return;
    let live = true;
    const timer = window.setTimeout(() => {
      api.get<AbatementQuote>(api.m(`/class/abatement?qty_t=${qty}`)).then(
        (q) => {
          if (!live) return;
          setQuote(q);
          setMessage(null);
        },
        (error) => live && setMessage({ ok: false, text: () => explain(error) }),
      );
    }, QUOTE_DELAY_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [qty, abatement.open]);

  async function declare(chosen: AbatementQuote) {
    setAsked(null);
    setBusy(true);
    try {
      const done = await api.post<{ abated_t: number; cost_fen: number }>(api.m("/class/abatement"), {
        qty_t: chosen.qty_t,
      });
      setMessage({ ok: true, text: () => t("firm.declared", { qty_t: done.abated_t, cost_fen: done.cost_fen }) });
      setQtyText("");
      props.onDone();
    } catch (error) {
      setMessage({ ok: false, text: () => explain(error) });
    } finally {
      setBusy(false);
    }
  }

  const buyFen = quote && price ? quote.qty_t * price.price_fen : null;
  const result = firm.result;
  return (
    <Panel name="firm" title={t("firm.title", { year: firm.year })}>
      <dl class="facts" data-testid="firm-facts">
        <dt>{t("firm.profile")}</dt>
        <dd data-i18n-exempt>
          {locale() === "zh-CN" ? `${firm.sector_zh} · ${firm.province_zh}` : `${firm.sector} · ${firm.province}`}
        </dd>
        {firm.gas_fired && (
          <>
            <dt>{t("firm.gasFired")}</dt>
            <dd data-testid="firm-gas">{t(firm.gas_top_up ? "firm.gasTopUp" : "firm.gasNoTopUp")}</dd>
          </>
        )}
        <dt>{t("firm.baseline")}</dt>
        <dd data-testid="firm-baseline">{tonnes(firm.baseline_t)}</dd>
        <dt>{t("firm.abated")}</dt>
        <dd data-testid="firm-abated">{tonnes(abatement.declared_t)}</dd>
        <dt>{firm.verified ? t("firm.verified") : t("firm.projected")}</dt>
        <dd data-testid="firm-projected">{tonnes(firm.projected_t)}</dd>
        <dt>{t("firm.allocation")}</dt>
        <dd data-testid="firm-allocation">{tonnes(firm.allocation_t)}</dd>
        <dt>{t("firm.usable")}</dt>
        <dd data-testid="firm-usable">{tonnes(firm.usable_t)}</dd>
        {firm.surrendered_t > 0 && (
          <>
            <dt>{t("firm.surrendered")}</dt>
            <dd>{tonnes(firm.surrendered_t)}</dd>
          </>
        )}
        <dt>{t("firm.position")}</dt>
        <dd
          data-testid="firm-position"
          data-position={firm.position_t}
          class={firm.position_t < 0 ? "warn" : ""}
        >
          {positionText(firm)}
        </dd>
        <dt>{t("firm.mac")}</dt>
        <dd data-testid="firm-mac">{t("firm.perTonne", { price_fen: abatement.marginal_cost_fen })}</dd>
        <dt>{t("firm.maxAbatement")}</dt>
        <dd data-testid="firm-max">{tonnes(abatement.max_t)}</dd>
        {price && (
          <>
            <dt>{t("firm.price")}</dt>
            <dd data-testid="firm-price">
              {t("firm.perTonne", { price_fen: price.price_fen })}{" "}
              <span class="muted small">{t(`firm.basis.${price.basis}`)}</span>
            </dd>
          </>
        )}
      </dl>
      <p class="muted small">{t("firm.positionNote")}</p>

      {abatement.open ? (
        <div class="abate" data-testid="abatement">
          <h3>{t("firm.abate")}</h3>
          <form
            class="inline-form"
            onSubmit={(event) => {
              event.preventDefault();
              if (quote) setAsked(quote);
            }}
          >
            <input
              name="abate-qty"
              inputMode="numeric"
              aria-label={t("firm.abateQty")}
              placeholder={t("firm.abateQty")}
              value={qtyText}
              onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
            />
            <button type="submit" class="primary" disabled={busy || quote === null} data-testid="abate">
              {t("firm.declare")}
            </button>
          </form>
          {quote && (
            <p class="small" data-testid="abatement-quote">
              {t("firm.abateQuote", {
                qty_t: quote.qty_t,
                cost_fen: quote.cost_fen,
                average_fen: quote.average_fen,
                marginal_fen: quote.marginal_cost_fen,
              })}
              {buyFen !== null && price && (
                <>
                  {" "}
                  <span data-testid="abatement-buy">
                    {t("firm.buyInstead", { qty_t: quote.qty_t, price_fen: price.price_fen, cost_fen: buyFen })}{" "}
                    <b>{quote.cost_fen <= buyFen ? t("firm.cheaper.abate") : t("firm.cheaper.buy")}</b>
                  </span>
                </>
              )}
            </p>
          )}
        </div>
      ) : (
        result === null && (
          <p class="muted small" data-testid="abatement-closed">
            {t("firm.abatementClosed")}
          </p>
        )
      )}
      {asked && (
        <div class="confirm" role="alertdialog" aria-labelledby="abate-confirm-text" data-testid="abate-confirmation">
          <p id="abate-confirm-text">
            {t("firm.confirm", { qty_t: asked.qty_t, year: firm.year, cost_fen: asked.cost_fen })}
          </p>
          <button type="button" class="primary" disabled={busy} data-testid="abate-confirm" onClick={() => declare(asked)}>
            {t("firm.confirmYes")}
          </button>{" "}
          <button type="button" data-testid="abate-cancel" onClick={() => setAsked(null)}>
            {t("firm.confirmNo")}
          </button>
        </div>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="firm-message">
          {message.text()}
        </p>
      )}

      {result && (
        <div class="result" data-testid="firm-result" data-complied={String(result.complied)}>
          <h3>{t("firm.result", { year: firm.year })}</h3>
          <dl class="facts">
            <dt>{t("firm.outcome")}</dt>
            <dd class={result.complied ? "ok-text" : "warn"} data-testid="result-outcome">
              {result.complied ? t("firm.complied") : t("firm.notComplied")}
            </dd>
            <dt>{t("firm.resultShortfall")}</dt>
            <dd data-testid="result-shortfall">{tonnes(result.shortfall_t)}</dd>
            <dt>{t("firm.resultPenalty")}</dt>
            <dd data-testid="result-penalty">{money(result.penalty_fen)}</dd>
            <dt>{t("firm.resultAbatement")}</dt>
            <dd>{money(result.abatement_cost_fen)}</dd>
            <dt>{t("firm.resultNetSpend")}</dt>
            <dd data-testid="result-net-spend">{money(result.net_spend_fen)}</dd>
            <dt>{t("firm.resultPnl")}</dt>
            <dd>{money(result.pnl_fen)}</dd>
            <dt>{t("firm.resultCost")}</dt>
            <dd data-testid="result-cost">
              <b>{money(result.cost_fen)}</b>
              <span class="muted small">{t("firm.resultCostNote")}</span>
            </dd>
          </dl>
        </div>
      )}
    </Panel>
  );
}
