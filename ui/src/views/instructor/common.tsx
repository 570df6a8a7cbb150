// Small pieces the console's panels share: an action's outcome line, a two-step confirmation,
// polling, and a word for an enumerated value the server sends.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { date, has, integer, isIdentifier, money, t, tonnes } from "../../i18n";
import { explain } from "../../problems";

export interface Outcome {
  ok: boolean;
  text: string;
}

/** What the last action did, in plain words (role status or alert, for screen readers). */
export function OutcomeLine({ outcome, testId }: { outcome: Outcome | null; testId: string }) {
  if (!outcome) return null;
  return (
    <p class={outcome.ok ? "ok" : "error"} role={outcome.ok ? "status" : "alert"} data-testid={testId}>
      {outcome.text}
    </p>
  );
}

/** Run ``action``; its outcome is ``done`` on success, the refusal explained otherwise. */
export function useAction(): [Outcome | null, (action: () => Promise<string>) => Promise<boolean>, (o: Outcome | null) => void] {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  async function run(action: () => Promise<string>): Promise<boolean> {
    setOutcome(null);
    try {
      setOutcome({ ok: true, text: await action() });
      return true;
    } catch (error) {
      setOutcome({ ok: false, text: explain(error) });
      return false;
    }
  }
  return [outcome, run, setOutcome];
}

/** A button that asks once more before it acts (phase changes, revoking keys). */
export function ConfirmButton(props: {
  label: string;
  question: string;
  testId: string;
  danger?: boolean;
  disabled?: boolean;
  onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button
        type="button"
        class={props.danger ? "danger" : "primary"}
        data-testid={props.testId}
        disabled={props.disabled}
        onClick={() => setAsking(true)}
      >
        {props.label}
      </button>
    );
  return (
    <span class="confirm" role="group" data-testid={`${props.testId}-confirm`}>
      <span class="warn">{props.question}</span>
      <button
        type="button"
        class={props.danger ? "danger" : "primary"}
        data-testid={`${props.testId}-yes`}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {t("console.confirm")}
      </button>
      <button type="button" data-testid={`${props.testId}-no`} onClick={() => setAsking(false)}>
        {t("console.cancel")}
      </button>
    </span>
  );
}

/** Call ``load`` now and every ``ms`` while mounted; ``deps`` restart it. */
export function usePoll(load: () => Promise<void>, ms: number, deps: unknown[]): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    void latest.current().catch(() => undefined);
    const timer = window.setInterval(() => void latest.current().catch(() => undefined), ms);
    return () => window.clearInterval(timer);
  }, deps);
}

/** The word for an enumerated value (``prefix.value``), or the value itself if it has none. */
export function word(prefix: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return t("value.none");
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : value;
}

/** A label above its control, the console's form layout. */
export function Field(props: { label: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <label class={props.wide ? "field wide" : "field"}>
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}

/** A number the server sends, in words by its name's unit (``_fen`` money, ``_t`` tonnes). */
export function amount(name: string, value: number): string {
  if (name.endsWith("_fen")) return money(value);
  if (name.endsWith("_t")) return tonnes(value);
  if (isIdentifier(name)) return String(value);
  return integer(value);
}

/** An ISO date for people, or the value as it came. */
export function maybeDate(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? date(value) : value;
}
