// Pieces the block board's forms share: a price and a quantity typed, the checks that stand
// against them (each in the words of the refusal the server would answer), the value of the
// terms, and an action's outcome line.
import { useState } from "preact/hooks";
import type { ApiProblem } from "../api";
import { integer, money, parsePriceFen, parseTonnes, price, priceInput, t } from "../i18n";
import { explain } from "../problems";

/** Words said later, in the language of the moment (a switch of language says them anew). */
export type Say = () => string;

export interface Outcome {
  ok: boolean;
  text: Say;
}

/** What the last action did (role status), or why it was refused or not sent (role alert). */
export function OutcomeLine({ outcome, testId }: { outcome: Outcome | null; testId: string }) {
  if (!outcome) return null;
  return (
    <p class={outcome.ok ? "ok" : "error"} role={outcome.ok ? "status" : "alert"} data-testid={testId}>
      {outcome.text()}
    </p>
  );
}

/** Run a block action: its outcome in words, or the refusal explained with its numbers. */
export function useOutcome(): [Outcome | null, (action: () => Promise<Say>) => Promise<boolean>, (o: Outcome | null) => void] {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(action: () => Promise<Say>): Promise<boolean> {
    if (busy) return false;
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome({ ok: true, text: await action() });
      return true;
    } catch (error) {
      setOutcome({ ok: false, text: () => explain(error) });
      return false;
    } finally {
      setBusy(false);
    }
  }
  return [outcome, run, setOutcome];
}

/** Send a form's action: its outcome to ``onDone``, a refusal explained in the form. */
export function useSend(onDone: (text: Say) => void) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  async function send(action: () => Promise<Say>) {
    if (busy) return;
    setBusy(true);
    setOutcome(null);
    try {
      onDone(await action());
    } catch (error) {
      setOutcome({ ok: false, text: () => explain(error) });
    } finally {
      setBusy(false);
    }
  }
  return { outcome, setOutcome, send, busy };
}

/** The checks that stand against the terms typed: not sent while any does. */
export function Checks({ checks, testId = "block-checks" }: { checks: ApiProblem[]; testId?: string }) {
  if (!checks.length) return null;
  return (
    <ul class="checks" data-testid={testId} aria-live="polite">
      {checks.map((check) => (
        <li key={check.code} data-code={check.code}>
          {explain(check)}
        </li>
      ))}
    </ul>
  );
}

/** A price and a quantity as typed, and what they parse to (null: not typed, or not a number). */
export function useTerms(priceFen: number | null = null, qtyT: number | null = null) {
  const [priceText, setPriceText] = useState(priceFen === null ? "" : priceInput(priceFen));
  const [qtyText, setQtyText] = useState(qtyT === null ? "" : String(qtyT));
  return {
    priceText,
    qtyText,
    setPriceText,
    setQtyText,
    priceFen: parsePriceFen(priceText),
    qtyT: parseTonnes(qtyText),
    reset(nextPrice: number | null, nextQty: number | null) {
      setPriceText(nextPrice === null ? "" : priceInput(nextPrice));
      setQtyText(nextQty === null ? "" : String(nextQty));
    },
  };
}

export type Terms = ReturnType<typeof useTerms>;

/** The price and quantity inputs of a form (``name``: the inputs' name prefix). */
export function TermsInputs({ terms, name, price: withPrice = true }: { terms: Terms; name: string; price?: boolean }) {
  return (
    <>
      {withPrice && (
        <label>
          {t("block.priceYuan")}
          <input
            name={`${name}-price`}
            inputMode="decimal"
            value={terms.priceText}
            onInput={(e) => terms.setPriceText((e.target as HTMLInputElement).value)}
          />
        </label>
      )}
      <label>
        {t("block.qty")}
        <input
          name={`${name}-qty`}
          inputMode="numeric"
          value={terms.qtyText}
          onInput={(e) => terms.setQtyText((e.target as HTMLInputElement).value)}
        />
      </label>
    </>
  );
}

/** "100,000 t × 58.00 = ¥5,800,000.00", or nothing until both are known. */
export function valueText(priceFen: number | null, qtyT: number | null): string | null {
  if (priceFen === null || qtyT === null) return null;
  return t("block.termsValue", { qty: integer(qtyT), price: price(priceFen), value: money(priceFen * qtyT) });
}

/** What a missing price or quantity needs (the order ticket's words), or null. */
export function missingTerms(priceFen: number | null, qtyT: number | null, needPrice = true): Say | null {
  if (needPrice && priceFen === null) return () => t("entry.needPrice");
  if (qtyT === null) return () => t("entry.needQty");
  return null;
}
