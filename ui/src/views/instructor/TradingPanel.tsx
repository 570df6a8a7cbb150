// Halt and resume trading, for one instrument or all, with each instrument's state and
// reference price. A halt may also cancel the resting orders. API: getBook, haltTrading,
// resumeTrading.
import { useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel } from "../../components/Panel";
import { price, t } from "../../i18n";
import type { Book } from "../../market";
import { explain } from "../../problems";
import { loadMarketInfo } from "../marketInfo";
import { OutcomeLine, useAction, usePoll, word } from "./common";

const POLL_MS = 3000;

export function TradingPanel({ api, marketId }: { api: Api; marketId: string }) {
  const [books, setBooks] = useState<Book[] | null>(null);
  const [cancelResting, setCancelResting] = useState(false);
  const [outcome, run, setOutcome] = useAction();

  async function load() {
    const info = await loadMarketInfo(api, marketId, null);
    setBooks(
      await Promise.all(info.instruments.map((i) => api.get<Book>(api.m(`/book/${encodeURIComponent(i.symbol)}`)))),
    );
  }
  usePoll(() => load().catch((error) => setOutcome({ ok: false, text: explain(error) })), POLL_MS, [api]);

  function act(what: "halt" | "resume", symbol: string | null) {
    const body: Record<string, unknown> = symbol === null ? {} : { symbol };
    if (what === "halt") body.cancel_resting = cancelResting;
    return run(async () => {
      await api.post(api.m(`/${what}`), body);
      await load();
      if (what === "halt") return symbol === null ? t("instructor.halted") : t("instructor.haltedOne", { symbol });
      return symbol === null ? t("instructor.resumed") : t("instructor.resumedOne", { symbol });
    });
  }

  return (
    <Panel name="control" title={t("instructor.trading")}>
      <div class="row">
        <button type="button" class="danger" data-testid="halt" onClick={() => act("halt", null)}>
          {t("instructor.halt")}
        </button>
        <button type="button" class="primary" data-testid="resume" onClick={() => act("resume", null)}>
          {t("instructor.resume")}
        </button>
        <label class="check">
          <input
            type="checkbox"
            name="cancel-resting"
            checked={cancelResting}
            onChange={(e) => setCancelResting((e.target as HTMLInputElement).checked)}
          />
          {t("instructor.cancelResting")}
        </label>
      </div>
      <OutcomeLine outcome={outcome} testId="trading-message" />
      <div class="scroll-x">
        <table>
          <thead>
            <tr>
              <th>{t("trade.instrument")}</th>
              <th>{t("instructor.state")}</th>
              <th class="num">{t("instructor.reference")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(books ?? []).map((book) => (
              <tr key={book.symbol} data-testid="instrument-state" data-symbol={book.symbol}>
                <td>{book.symbol}</td>
                <td>
                  <span class={`badge state-${book.state}`}>{word("enum", book.state)}</span>
                </td>
                <td class="num">{price(book.reference_price_fen)}</td>
                <td class="actions">
                  {book.state === "halted" ? (
                    <button type="button" class="small" data-testid="resume-one" onClick={() => act("resume", book.symbol)}>
                      {t("instructor.resumeOne")}
                    </button>
                  ) : (
                    <button type="button" class="small danger" data-testid="halt-one" onClick={() => act("halt", book.symbol)}>
                      {t("instructor.haltOne")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
