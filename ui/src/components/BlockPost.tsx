// Posting a block quote (大宗报价): instrument, side, price, quantity and, where the rules allow
// it, the one account the quote is for. The checks the server would refuse it for (the block
// session closed, below the minimum, outside today's block band, directed to oneself) show with
// their numbers while they stand, and the quote is not sent until none does.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { type BlockLimits, type BlockQuote, type Side, checkTerms } from "../block";
import { integer, money, price, t, tonnes } from "../i18n";
import type { Balances } from "../market";
import { unitName } from "../names";
import { Checks, OutcomeLine, TermsInputs, missingTerms, useOutcome, useTerms, valueText } from "./blockParts";
import { Panel } from "./Panel";

export function BlockPost(props: {
  api: Api;
  limits: BlockLimits;
  symbols: string[];
  symbol: string | null;
  accountId: string;
  balances: Balances | null;
}) {
  const { api, limits, accountId } = props;
  const [symbol, setSymbol] = useState<string>(props.symbol ?? props.symbols[0] ?? "");
  const [side, setSide] = useState<Side>("sell");
  const [counterparty, setCounterparty] = useState("");
  const terms = useTerms();
  const [outcome, run, setOutcome] = useOutcome();

  // The screen's instrument, when it changes.
  useEffect(() => {
    if (props.symbol) setSymbol(props.symbol);
  }, [props.symbol]);

  const to = counterparty.trim() || null;
  const checks = checkTerms(limits, { symbol, priceFen: terms.priceFen, qtyT: terms.qtyT, counterparty: to, me: accountId });
  const band = limits.bands.find((b) => b.symbol === symbol);
  const holding = props.balances?.holdings.find((h) => h.unit === symbol);
  const value = valueText(terms.priceFen, terms.qtyT);

  function submit(event: Event) {
    event.preventDefault();
    const missing = missingTerms(terms.priceFen, terms.qtyT);
    if (missing) return setOutcome({ ok: false, text: missing });
    if (checks.length) return setOutcome({ ok: false, text: () => t("block.notSent") });
    const body: Record<string, unknown> = { symbol, side, price_fen: terms.priceFen, qty_t: terms.qtyT };
    if (to) body.counterparty = to;
    void run(async () => {
      const reply = await api.post<{ quote: BlockQuote }>(api.m("/block/quotes"), body);
      const quote = reply.quote;
      terms.reset(null, null);
      setCounterparty("");
      return () => {
        const posted = t(`block.posted.${quote.side}`, {
          quote_id: quote.quote_id,
          qty_t: quote.qty_t,
          price: quote.price_fen === null ? t("block.priceHidden") : price(quote.price_fen),
        });
        return quote.counterparty ? `${posted} ${t("block.postedFor", { counterparty: quote.counterparty })}` : posted;
      };
    });
  }

  return (
    <Panel name="block-post" title={t("block.post")}>
      <form class="ticket" onSubmit={submit} data-testid="block-post-form">
        <label>
          {t("trade.instrument")}
          <select name="block-symbol" value={symbol} onChange={(e) => setSymbol((e.target as HTMLSelectElement).value)}>
            {props.symbols.map((s) => (
              <option key={s} value={s}>
                {unitName(s)}
              </option>
            ))}
          </select>
        </label>
        <div class="segmented wide" role="group" aria-label={t("entry.side")}>
          {(["buy", "sell"] as const).map((s) => (
            <button
              type="button"
              key={s}
              class={`${s} ${side === s ? "on" : ""}`}
              aria-pressed={side === s}
              data-testid={`block-side-${s}`}
              onClick={() => setSide(s)}
            >
              {t(`enum.${s}`)}
            </button>
          ))}
        </div>
        <TermsInputs terms={terms} name="block" />
        {limits.directed && (
          <label>
            {t("block.counterparty")}
            <input
              name="block-counterparty"
              autoComplete="off"
              value={counterparty}
              placeholder={t("block.counterpartyHint")}
              onInput={(e) => setCounterparty((e.target as HTMLInputElement).value)}
            />
          </label>
        )}
        <dl class="facts small" data-testid="block-post-facts">
          {band && (
            <>
              <dt>{t("block.bandToday")}</dt>
              <dd>
                {price(band.lower_fen)} – {price(band.upper_fen)}
              </dd>
            </>
          )}
          {limits.min_qty_t !== null && (
            <>
              <dt>{t("block.minimum")}</dt>
              <dd>{tonnes(limits.min_qty_t)}</dd>
            </>
          )}
          {value && (
            <>
              <dt>{t("block.value")}</dt>
              <dd data-testid="block-post-value">{value}</dd>
            </>
          )}
          {side === "buy" && props.balances && (
            <>
              <dt>{t("account.cashAvailable")}</dt>
              <dd>{money(props.balances.cash.available_fen)}</dd>
            </>
          )}
          {side === "sell" && props.balances && (
            <>
              <dt>{t("account.sellable")}</dt>
              <dd>{tonnes(holding?.sellable_t ?? 0)}</dd>
            </>
          )}
        </dl>
        <p class="muted small">{t(side === "buy" ? "block.holdsBuy" : "block.holdsSell")}</p>
        <Checks checks={checks} />
        <button type="submit" class={`primary ${side}`} data-testid="block-post">
          {terms.qtyT !== null && terms.priceFen !== null
            ? t(`block.postSubmit.${side}`, { qty: integer(terms.qtyT), price: price(terms.priceFen) })
            : t("block.postEmpty")}
        </button>
        <OutcomeLine outcome={outcome} testId="block-post-message" />
      </form>
    </Panel>
  );
}
