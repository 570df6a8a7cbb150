// Voluntary cancellation (自愿注销): the account's own cancellations (listCancellations), each
// with its bilingual certificate (注销证明, getCancellationCertificate ?format=html) opened in a
// new tab, and a form to cancel units (cancelUnits): a unit held, tonnes, the beneficiary the
// certificate is made out to and a purpose, asked again before anything is done, since
// cancelled units are retired for good. What the form can tell before asking (no unit, no
// quantity, more than is available, no beneficiary) it says at once with the numbers; the
// registry's refusals come back explained in plain words.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../api";
import { date, parseTonnes, t, tonnes } from "../i18n";
import type { Holding } from "../market";
import { explain } from "../problems";
import { unitLabel } from "./Account";
import { Panel } from "./Panel";

const BENEFICIARY_MAX = 200; // the contract's bounds (CancellationRequest)
const PURPOSE_MAX = 500;
const READ_RETRY_MS = 3000; // a failed read of the register, tried again
const REVOKE_AFTER_MS = 60_000; // a certificate's page is kept this long for its tab to load

/** A listCancellations item. */
export interface Cancellation {
  serial: number;
  unit: string;
  qty_t: number;
  beneficiary: string;
  purpose: string;
  on: string | null;
}

interface Asked {
  unit: string;
  qty_t: number;
  beneficiary: string;
  purpose: string;
}

/** Open the certificate of cancellation ``serial`` in a new tab: the tab opens at once (within
 * the click, so that the browser allows it), then shows the page read with the session's key. */
export async function openCertificate(api: Api, serial: number): Promise<void> {
  const tab = window.open("", "_blank");
  try {
    const page = await api.text(api.m(`/retired/${serial}/certificate?format=html`));
    const url = URL.createObjectURL(new Blob([page], { type: "text/html;charset=utf-8" }));
    window.setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
    if (tab) {
      tab.opener = null;
      tab.location.href = url;
    } else if (!window.open(url, "_blank", "noopener")) {
      throw new Error("blocked");
    }
  } catch (error) {
    tab?.close();
    throw error;
  }
}

export function Cancellations(props: { api: Api; accountId: string; holdings: Holding[]; onDone: () => void }) {
  const { api } = props;
  const usable = props.holdings.filter((h) => h.available_t > 0);
  const [rows, setRows] = useState<Cancellation[] | null>(null);
  const [total, setTotal] = useState(0);
  const [unit, setUnit] = useState(usable[0]?.unit ?? "");
  const [qtyText, setQtyText] = useState("");
  const [beneficiary, setBeneficiary] = useState("");
  const [purpose, setPurpose] = useState("");
  const [asked, setAsked] = useState<Asked | null>(null);
  const [busy, setBusy] = useState(false);
  // Words made when shown, so that they follow the language toggle.
  const [message, setMessage] = useState<{ ok: boolean; text: () => string; serial?: number } | null>(null);
  const path = api.m(`/accounts/${encodeURIComponent(props.accountId)}/cancellations`);

  useEffect(() => {
    if (!usable.some((h) => h.unit === unit) && usable.length) setUnit(usable[0].unit);
  }, [usable.map((h) => h.unit).join()]);

  // A failed read of the register shows its error and is tried again shortly (the feed may be
  // back before the REST reads are); the next good read takes its error away.
  const readFailed = useRef(false);
  const retry = useRef(0);
  async function load() {
    try {
      const read = await api.get<{ cancellations: Cancellation[]; total_t: number }>(path);
      setRows([...read.cancellations].reverse()); // the latest first
      setTotal(read.total_t);
      if (readFailed.current) setMessage(null);
      readFailed.current = false;
    } catch (error) {
      setMessage({ ok: false, text: () => explain(error) });
      readFailed.current = true;
      window.clearTimeout(retry.current);
      retry.current = window.setTimeout(() => void load(), READ_RETRY_MS);
    }
  }
  useEffect(() => {
    void load();
    return () => window.clearTimeout(retry.current);
  }, [api, props.accountId]);

  function submit(event: Event) {
    event.preventDefault();
    setMessage(null);
    const holding = usable.find((h) => h.unit === unit);
    const qty = parseTonnes(qtyText);
    const wrong = (text: () => string) => setMessage({ ok: false, text });
    if (!holding) return wrong(() => t("cancel.needUnit"));
    if (qty === null) return wrong(() => t("entry.needQty"));
    if (qty > holding.available_t)
      return wrong(() => t("cancel.overAvailable", { unit: unitLabel(holding.unit), available_t: holding.available_t, qty_t: qty }));
    if (!beneficiary.trim()) return wrong(() => t("cancel.needBeneficiary"));
    setAsked({ unit, qty_t: qty, beneficiary: beneficiary.trim(), purpose: purpose.trim() });
  }

  async function cancel(chosen: Asked) {
    setAsked(null);
    setBusy(true);
    try {
      const done = await api.post<{ serial: number; qty_t: number; unit: string }>(path, chosen);
      setMessage({
        ok: true,
        text: () => t("cancel.done", { qty_t: done.qty_t, unit: unitLabel(done.unit), serial: String(done.serial) }),
        serial: done.serial,
      });
      setQtyText("");
      setBeneficiary("");
      setPurpose("");
      props.onDone();
      await load();
    } catch (error) {
      setMessage({ ok: false, text: () => explain(error) });
    } finally {
      setBusy(false);
    }
  }

  async function certificate(serial: number) {
    try {
      await openCertificate(api, serial);
    } catch (error) {
      setMessage({ ok: false, text: () => (error instanceof Error && error.message === "blocked" ? t("cancel.blocked") : explain(error)) });
    }
  }

  const certificateButton = (serial: number, testId: string) => (
    <button
      type="button"
      class="small"
      data-testid={testId}
      aria-label={t("cancel.certificateOf", { serial: String(serial) })}
      onClick={() => void certificate(serial)}
    >
      {t("cancel.certificate")}
    </button>
  );

  return (
    <Panel name="cancellations" title={t("cancel.title")}>
      <p class="muted small">{t("cancel.hint")}</p>
      <form class="cancel-form" onSubmit={submit} data-testid="cancel-form" noValidate>
        <label>
          {t("cancel.unit")}
          <select name="cancel-unit" value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
            {usable.length === 0 && <option value="">{t("cancel.noUnits")}</option>}
            {usable.map((h) => (
              <option key={h.unit} value={h.unit}>
                {unitLabel(h.unit)} ({tonnes(h.available_t)})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("cancel.qty")}
          <input name="cancel-qty" inputMode="numeric" autoComplete="off" value={qtyText} onInput={(e) => setQtyText((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t("cancel.beneficiary")}
          <input
            name="beneficiary"
            autoComplete="off"
            maxLength={BENEFICIARY_MAX}
            value={beneficiary}
            onInput={(e) => setBeneficiary((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t("cancel.purpose")}
          <input name="purpose" autoComplete="off" maxLength={PURPOSE_MAX} value={purpose} onInput={(e) => setPurpose((e.target as HTMLInputElement).value)} />
        </label>
        <div>
          <button type="submit" class="primary" disabled={busy || usable.length === 0} data-testid="cancel-units">
            {t("cancel.submit")}
          </button>
        </div>
      </form>
      {asked && (
        <div class="confirm" role="alertdialog" aria-labelledby="cancel-confirm-text" data-testid="cancel-confirmation">
          <p id="cancel-confirm-text">
            {t("cancel.confirm", { qty_t: asked.qty_t, unit: unitLabel(asked.unit), beneficiary: asked.beneficiary })}
          </p>
          <button type="button" class="primary" disabled={busy} data-testid="cancel-confirm" onClick={() => void cancel(asked)}>
            {t("cancel.confirmYes")}
          </button>{" "}
          <button type="button" data-testid="cancel-not-now" onClick={() => setAsked(null)}>
            {t("cancel.confirmNo")}
          </button>
        </div>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="cancel-message">
          {message.text()} {message.serial !== undefined && certificateButton(message.serial, "cancel-done-certificate")}
        </p>
      )}
      <h3>{t("cancel.list")}</h3>
      {rows !== null && rows.length === 0 && <p class="muted small">{t("cancel.none")}</p>}
      {rows !== null && rows.length > 0 && (
        <>
          <ul class="cancellations" data-testid="cancellations">
            {rows.map((c) => (
              <li key={c.serial} data-testid="cancellation" data-serial={c.serial} data-day={c.on ?? ""}>
                <div class="line">
                  <b>{t("cancel.number", { serial: String(c.serial) })}</b>
                  <span>{c.on ? date(c.on) : t("value.none")}</span>
                  <span>
                    {unitLabel(c.unit)} · <span data-testid="cancellation-qty">{tonnes(c.qty_t)}</span>
                  </span>
                </div>
                <div class="line">
                  <span class="who">
                    {t("cancel.for")}{" "}
                    <span data-i18n-exempt data-testid="cancellation-beneficiary">
                      {c.beneficiary}
                      {c.purpose && ` · ${c.purpose}`}
                    </span>
                  </span>
                  {certificateButton(c.serial, "certificate")}
                </div>
              </li>
            ))}
          </ul>
          <p class="muted small" data-testid="cancellations-total">
            {t("cancel.total", { total_t: total })}
          </p>
        </>
      )}
    </Panel>
  );
}
