// My negotiations (对话议价), live from the `block` channel: the quote, the other party, my side,
// the latest terms and who proposed them, whose turn it is, the rounds so far. On my turn I
// confirm the terms as shown (the server refuses terms changed meanwhile), or counter with new
// ones; either side may end it at any time.
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { type BlockDeal, type BlockLimits, type BlockNegotiation, type BlockQuote, checkTerms } from "../block";
import { integer, price, t } from "../i18n";
import { unitName } from "../names";
import { Checks, OutcomeLine, type Say, TermsInputs, missingTerms, useOutcome, useSend, useTerms, valueText } from "./blockParts";
import { Panel } from "./Panel";

export function BlockNegotiations(props: {
  api: Api;
  limits: BlockLimits;
  negotiations: BlockNegotiation[];
  quotes: BlockQuote[]; // the board: a counter is at most what is left of its quote
}) {
  const { api, limits } = props;
  const [countering, setCountering] = useState<number | null>(null);
  const [outcome, run, setOutcome] = useOutcome();

  function confirm(n: BlockNegotiation) {
    const checks = checkTerms(limits, { symbol: n.symbol, priceFen: null, qtyT: null });
    if (checks.length) return void run(() => Promise.reject(checks[0]));
    void run(async () => {
      const deal = await api.post<BlockDeal>(api.m(`/block/negotiations/${n.negotiation_id}/confirm`), {
        price_fen: n.price_fen,
        qty_t: n.qty_t,
      });
      return () => t(`block.dealt.${n.side}`, { deal_id: deal.deal_id, qty_t: deal.qty_t, price: price(deal.price_fen) });
    });
  }

  function end(n: BlockNegotiation) {
    void run(async () => {
      await api.delete(api.m(`/block/negotiations/${n.negotiation_id}`));
      return () => t("block.ended", { negotiation_id: n.negotiation_id });
    });
  }

  return (
    <Panel name="block-negotiations" title={t("block.negotiations")}>
      <OutcomeLine outcome={outcome} testId="block-negotiation-message" />
      {props.negotiations.length === 0 && <p class="muted empty-note">{t("block.noNegotiations")}</p>}
      <ul class="block-cards" aria-label={t("block.negotiations")}>
        {props.negotiations.map((n) => (
          <li
            key={n.negotiation_id}
            class={`block-card ${n.my_turn ? "my-turn" : ""}`}
            data-testid="block-negotiation"
            data-negotiation-id={n.negotiation_id}
            data-my-turn={n.my_turn}
          >
            <div class="card-head">
              <span class={`side-tag ${n.side}`}>{t(`enum.${n.side}`)}</span>
              <b>{unitName(n.symbol)}</b>
              <span class="muted">
                {t("block.negotiationNo", { negotiation_id: n.negotiation_id, quote_id: n.quote_id })}
              </span>
              <span class={`badge ${n.my_turn ? "to-me" : ""}`} data-testid="bn-turn">
                {n.my_turn ? t("block.yourTurn") : t("block.theirTurn", { counterparty: n.counterparty })}
              </span>
            </div>
            <dl class="card-facts">
              <div class="wide">
                <dt>{t("block.terms")}</dt>
                <dd data-testid="bn-terms">{valueText(n.price_fen, n.qty_t)}</dd>
              </div>
              <div>
                <dt>{t("block.with")}</dt>
                <dd data-testid="bn-with">{n.counterparty}</dd>
              </div>
              <div>
                <dt>{t("block.proposedBy")}</dt>
                <dd>{n.my_turn ? n.counterparty : t("block.you")}</dd>
              </div>
              <div>
                <dt>{t("block.rounds")}</dt>
                <dd data-testid="bn-rounds">{integer(n.rounds)}</dd>
              </div>
            </dl>
            <div class="buttons">
              {n.my_turn && (
                <>
                  <button type="button" class={`small primary ${n.side}`} data-testid="bn-confirm" onClick={() => confirm(n)}>
                    {t(`block.confirm.${n.side}`, { qty: integer(n.qty_t), price: price(n.price_fen) })}
                  </button>
                  <button
                    type="button"
                    class="small"
                    aria-expanded={countering === n.negotiation_id}
                    data-testid="bn-counter"
                    onClick={() => setCountering(countering === n.negotiation_id ? null : n.negotiation_id)}
                  >
                    {t("block.counter")}
                  </button>
                </>
              )}
              <button type="button" class="small danger" data-testid="bn-end" onClick={() => end(n)}>
                {t("block.end")}
              </button>
            </div>
            {n.my_turn && countering === n.negotiation_id && (
              <CounterForm
                api={api}
                limits={limits}
                negotiation={n}
                quote={props.quotes.find((q) => q.quote_id === n.quote_id)}
                onBack={() => setCountering(null)}
                onDone={(text) => {
                  setCountering(null);
                  setOutcome({ ok: true, text });
                }}
              />
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function CounterForm(props: {
  api: Api;
  limits: BlockLimits;
  negotiation: BlockNegotiation;
  quote: BlockQuote | undefined;
  onBack: () => void;
  onDone: (text: Say) => void;
}) {
  const { api, limits, negotiation: n } = props;
  const terms = useTerms(n.price_fen, n.qty_t);
  const { outcome, setOutcome, send, busy } = useSend(props.onDone);
  const checks = checkTerms(limits, { symbol: n.symbol, priceFen: terms.priceFen, qtyT: terms.qtyT, quote: props.quote });
  const value = valueText(terms.priceFen, terms.qtyT);

  function submit(event: Event) {
    event.preventDefault();
    const missing = missingTerms(terms.priceFen, terms.qtyT);
    if (missing) return setOutcome({ ok: false, text: missing });
    if (checks.length) return setOutcome({ ok: false, text: () => t("block.notSent") });
    void send(async () => {
      const reply = await api.post<{ negotiation: BlockNegotiation }>(
        api.m(`/block/negotiations/${n.negotiation_id}/counter`),
        { price_fen: terms.priceFen, qty_t: terms.qtyT },
      );
      const next = reply.negotiation;
      return () => t("block.countered", {
        negotiation_id: next.negotiation_id,
        qty_t: next.qty_t,
        price: price(next.price_fen),
        counterparty: next.counterparty,
      });
    });
  }

  return (
    <form class="ticket card-form" onSubmit={submit} data-testid="counter-form">
      <TermsInputs terms={terms} name="counter" />
      {value && (
        <dl class="facts small">
          <dt>{t("block.value")}</dt>
          <dd>{value}</dd>
        </dl>
      )}
      <Checks checks={checks} />
      <OutcomeLine outcome={outcome} testId="counter-message" />
      <div class="buttons">
        <button type="submit" class="small primary" disabled={busy} data-testid="counter-submit">
          {t("block.counterSubmit")}
        </button>
        <button type="button" class="small" onClick={props.onBack}>
          {t("block.back")}
        </button>
      </div>
    </form>
  );
}
