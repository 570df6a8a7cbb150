// The block board (大宗报价板): the quotes this key sees, oldest first, live from the `block`
// channel: side, price (or "not shown" where the rules hide board prices), what is left, the
// poster, and whether it is directed to you. On another's quote: accept it at its price for a
// quantity, or open a negotiation (对话议价) with terms of your own; on your own: withdraw it.
// Each quote is a card whose actions open below it, so that it fits a phone.
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { type BlockDeal, type BlockLimits, type BlockNegotiation, type BlockQuote, checkTerms, takerSide } from "../block";
import { clockTime, integer, money, price, t, tonnes } from "../i18n";
import type { Balances } from "../market";
import { unitName } from "../names";
import { Checks, OutcomeLine, type Say, TermsInputs, missingTerms, useOutcome, useSend, useTerms, valueText } from "./blockParts";
import { Panel } from "./Panel";

type Acting = { quoteId: number; what: "accept" | "negotiate" } | null;

export function BlockQuotes(props: {
  api: Api;
  limits: BlockLimits;
  quotes: BlockQuote[];
  accountId: string | null;
  balances: Balances | null;
  timeZone: string;
}) {
  const { api, limits, accountId } = props;
  const [acting, setActing] = useState<Acting>(null);
  const [outcome, run, setOutcome] = useOutcome();
  const done = (text: Say) => {
    setActing(null);
    setOutcome({ ok: true, text });
  };

  function cancel(quote: BlockQuote) {
    void run(async () => {
      const reply = await api.delete<{ negotiations_ended: number[] }>(api.m(`/block/quotes/${quote.quote_id}`));
      return () => t(reply.negotiations_ended.length ? "block.cancelledEnded" : "block.cancelled", { quote_id: quote.quote_id });
    });
  }

  return (
    <Panel name="block-board" title={t("block.board")}>
      <OutcomeLine outcome={outcome} testId="block-board-message" />
      {props.quotes.length === 0 && <p class="muted empty-note">{t("block.empty")}</p>}
      <ul class="block-cards" aria-label={t("block.board")}>
        {props.quotes.map((quote) => {
          const toMe = !quote.mine && accountId !== null && quote.counterparty === accountId;
          const open = acting?.quoteId === quote.quote_id ? acting.what : null;
          return (
            <li
              key={quote.quote_id}
              class={`block-card ${quote.side}`}
              data-testid="block-quote"
              data-quote-id={quote.quote_id}
              data-mine={quote.mine}
              data-to-me={toMe}
            >
              <div class="card-head">
                <span class={`side-tag ${quote.side}`}>{t(`enum.${quote.side}`)}</span>
                <b>{unitName(quote.symbol)}</b>
                <span class="muted">{t("block.quoteNo", { quote_id: quote.quote_id })}</span>
                {quote.mine && <span class="badge mine">{t("block.mine")}</span>}
                {toMe && (
                  <span class="badge to-me" data-testid="bq-to-you">
                    {t("block.toYou")}
                  </span>
                )}
                {quote.mine && quote.counterparty && (
                  <span class="badge">{t("block.toOther", { counterparty: quote.counterparty })}</span>
                )}
              </div>
              <dl class="card-facts">
                <div>
                  <dt>{t("block.price")}</dt>
                  <dd data-testid="bq-price">{quote.price_fen === null ? t("block.priceHidden") : price(quote.price_fen)}</dd>
                </div>
                <div>
                  <dt>{t("block.left")}</dt>
                  <dd data-testid="bq-qty">{tonnes(quote.qty_t)}</dd>
                </div>
                <div>
                  <dt>{t("block.poster")}</dt>
                  <dd data-testid="bq-poster">{quote.mine ? t("block.you") : quote.account_id}</dd>
                </div>
                <div>
                  <dt>{t("block.time")}</dt>
                  <dd>{clockTime(quote.ts_ns, props.timeZone)}</dd>
                </div>
              </dl>
              {accountId !== null && (
                <div class="buttons">
                  {quote.mine ? (
                    <button type="button" class="small danger" data-testid="bq-cancel" onClick={() => cancel(quote)}>
                      {t("block.cancelQuote")}
                    </button>
                  ) : (
                    <>
                      <button
                        type="button"
                        class={`small ${open === "accept" ? "on" : ""}`}
                        aria-expanded={open === "accept"}
                        data-testid="bq-accept"
                        onClick={() => setActing(open === "accept" ? null : { quoteId: quote.quote_id, what: "accept" })}
                      >
                        {t("block.accept")}
                      </button>
                      <button
                        type="button"
                        class={`small ${open === "negotiate" ? "on" : ""}`}
                        aria-expanded={open === "negotiate"}
                        data-testid="bq-negotiate"
                        onClick={() => setActing(open === "negotiate" ? null : { quoteId: quote.quote_id, what: "negotiate" })}
                      >
                        {t("block.negotiate")}
                      </button>
                    </>
                  )}
                </div>
              )}
              {open === "accept" && (
                <AcceptForm
                  api={api}
                  limits={limits}
                  quote={quote}
                  balances={props.balances}
                  onDone={done}
                  onBack={() => setActing(null)}
                />
              )}
              {open === "negotiate" && (
                <NegotiateForm
                  api={api}
                  limits={limits}
                  quote={quote}
                  balances={props.balances}
                  onDone={done}
                  onBack={() => setActing(null)}
                />
              )}
            </li>
          );
        })}
      </ul>
    </Panel>
  );
}

interface ActionProps {
  api: Api;
  limits: BlockLimits;
  quote: BlockQuote;
  balances: Balances | null;
  onDone: (text: Say) => void; // dealt or opened: the board says so (the quote may be gone)
  onBack: () => void;
}

/** What the taker has to pay or deliver with: cash for a buy, the sellable units for a sell. */
function Means({ quote, balances }: { quote: BlockQuote; balances: Balances | null }) {
  if (!balances) return null;
  if (takerSide(quote) === "buy")
    return (
      <>
        <dt>{t("account.cashAvailable")}</dt>
        <dd>{money(balances.cash.available_fen)}</dd>
      </>
    );
  const holding = balances.holdings.find((h) => h.unit === quote.symbol);
  return (
    <>
      <dt>{t("account.sellable")}</dt>
      <dd>{tonnes(holding?.sellable_t ?? 0)}</dd>
    </>
  );
}

function AcceptForm(props: ActionProps) {
  const { api, limits, quote } = props;
  const terms = useTerms(null, quote.qty_t);
  const { outcome, setOutcome, send, busy } = useSend(props.onDone);
  const side = takerSide(quote);
  const checks = checkTerms(limits, { symbol: quote.symbol, priceFen: null, qtyT: terms.qtyT, quote });
  const value = valueText(quote.price_fen, terms.qtyT);

  function submit(event: Event) {
    event.preventDefault();
    const missing = missingTerms(null, terms.qtyT, false);
    if (missing) return setOutcome({ ok: false, text: missing });
    if (checks.length) return setOutcome({ ok: false, text: () => t("block.notSent") });
    void send(async () => {
      const deal = await api.post<BlockDeal>(api.m(`/block/quotes/${quote.quote_id}/accept`), { qty_t: terms.qtyT });
      return () => t(`block.dealt.${side}`, { deal_id: deal.deal_id, qty_t: deal.qty_t, price: price(deal.price_fen) });
    });
  }

  return (
    <form class="ticket card-form" onSubmit={submit} data-testid="accept-form">
      <TermsInputs terms={terms} name="accept" price={false} />
      <dl class="facts small">
        {value && (
          <>
            <dt>{t("block.value")}</dt>
            <dd>{value}</dd>
          </>
        )}
        <Means quote={quote} balances={props.balances} />
      </dl>
      <Checks checks={checks} />
      <OutcomeLine outcome={outcome} testId="accept-message" />
      <div class="buttons">
        <button type="submit" class={`small primary ${side}`} disabled={busy} data-testid="accept-submit">
          {quote.price_fen === null
            ? t(`block.acceptHidden.${side}`, { qty: integer(terms.qtyT ?? 0) })
            : t(`block.acceptSubmit.${side}`, { qty: integer(terms.qtyT ?? 0), price: price(quote.price_fen) })}
        </button>
        <button type="button" class="small" onClick={props.onBack}>
          {t("block.back")}
        </button>
      </div>
    </form>
  );
}

function NegotiateForm(props: ActionProps) {
  const { api, limits, quote } = props;
  const terms = useTerms(quote.price_fen, quote.qty_t);
  const { outcome, setOutcome, send, busy } = useSend(props.onDone);
  const checks = checkTerms(limits, { symbol: quote.symbol, priceFen: terms.priceFen, qtyT: terms.qtyT, quote });
  const value = valueText(terms.priceFen, terms.qtyT);

  function submit(event: Event) {
    event.preventDefault();
    const missing = missingTerms(terms.priceFen, terms.qtyT);
    if (missing) return setOutcome({ ok: false, text: missing });
    if (checks.length) return setOutcome({ ok: false, text: () => t("block.notSent") });
    void send(async () => {
      const reply = await api.post<{ negotiation: BlockNegotiation }>(
        api.m(`/block/quotes/${quote.quote_id}/negotiations`),
        { price_fen: terms.priceFen, qty_t: terms.qtyT },
      );
      const n = reply.negotiation;
      return () => t("block.opened", {
        negotiation_id: n.negotiation_id,
        qty_t: n.qty_t,
        price: price(n.price_fen),
        counterparty: n.counterparty,
      });
    });
  }

  return (
    <form class="ticket card-form" onSubmit={submit} data-testid="negotiate-form">
      <p class="muted small">{t(`block.negotiateHint.${takerSide(quote)}`)}</p>
      <TermsInputs terms={terms} name="negotiate" />
      <dl class="facts small">
        {value && (
          <>
            <dt>{t("block.value")}</dt>
            <dd>{value}</dd>
          </>
        )}
        <Means quote={quote} balances={props.balances} />
      </dl>
      <Checks checks={checks} />
      <OutcomeLine outcome={outcome} testId="negotiate-message" />
      <div class="buttons">
        <button type="submit" class="small primary" disabled={busy} data-testid="negotiate-submit">
          {t("block.openSubmit")}
        </button>
        <button type="button" class="small" onClick={props.onBack}>
          {t("block.back")}
        </button>
      </div>
    </form>
  );
}
