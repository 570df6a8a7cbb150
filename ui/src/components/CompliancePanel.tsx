// The compliance panel (清缴履约): verified emissions, what has been surrendered, the offset cap,
// shortfall, projected penalty, a countdown to the deadline (in a class: in class trading days),
// the surrender plan, and surrender.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { date, integer, money, parseTonnes, t, tonnes } from "../i18n";
import { type Compliance, type Holding, daysBetween } from "../market";
import { explain } from "../problems";
import { unitLabel } from "./Account";
import { Panel } from "./Panel";

export interface PlanItem {
  unit: string;
  qty_t: number;
}

/** getSurrenderPlan's answer: the suggested items and the shortfall they would leave. */
export interface Plan {
  items: PlanItem[];
  shortfallAfterT: number | null;
}

export function CompliancePanel(props: {
  api: Api;
  accountId: string;
  status: Compliance;
  plan: Plan | null;
  years: number[];
  onYear: (year: number) => void;
  today: string;
  holdings: Holding[];
  onDone: () => void;
  /** Inside a class: its surrender deadline in class trading days (getMyClassSeat), counted
   * down instead of calendar days to the rule set's date. */
  classDeadline?: { day: number; daysLeft: number } | null;
}) {
  const { status, api } = props;
  const usable = props.holdings.filter((h) => h.available_t > 0);
  const [unit, setUnit] = useState(usable[0]?.unit ?? "");
  const [qtyText, setQtyText] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // A surrender asked for and not yet confirmed: its items, shown with their quantities.
  const [asked, setAsked] = useState<PlanItem[] | null>(null);
  useEffect(() => {
    if (!usable.some((h) => h.unit === unit) && usable.length) setUnit(usable[0].unit);
  }, [usable.map((h) => h.unit).join()]);

  const days = daysBetween(props.today, status.deadline);
  // A surrender is offered only where the registry could take one: emissions verified, the
  // year not assessed, its deadline not passed.
  const surrenderOpen = status.obligation_t !== null && status.assessed === null && days >= 0;
  const surrendered = status.allowances_t + status.offsets_t;
  // The server prices the penalty (getComplianceStatus: the rule set's terms and the penalty
  // reference price); the panel only shows it and its basis.
  const penalty = status.projected_penalty_fen;
  const priced = status.penalty_kind === "price_multiple" && status.reference_price_fen !== null;

  async function surrender(items: PlanItem[]) {
    setAsked(null);
    setMessage(null);
    setBusy(true);
    try {
      const path = api.m(`/accounts/${encodeURIComponent(props.accountId)}/surrenders`);
      await api.post(path, { year: status.year, items });
      const total = items.reduce((sum, i) => sum + i.qty_t, 0);
      setMessage({ ok: true, text: t("compliance.surrenderDone", { qty_t: total }) });
      setQtyText("");
      props.onDone();
    } catch (error) {
      setMessage({ ok: false, text: explain(error) });
    } finally {
      setBusy(false);
    }
  }

  function submitManual(event: Event) {
    event.preventDefault();
    const qty = parseTonnes(qtyText);
    if (!unit || qty === null) {
      setMessage({ ok: false, text: t("entry.needQty") });
      return;
    }
    setMessage(null);
    setAsked([{ unit, qty_t: qty }]);
  }

  const yearPicker = (
    <select
      aria-label={t("compliance.year")}
      value={status.year}
      onChange={(e) => props.onYear(Number((e.target as HTMLSelectElement).value))}
    >
      {props.years.map((y) => (
        <option key={y} value={y}>
          {t("compliance.yearOption", { year: String(y) })}
        </option>
      ))}
    </select>
  );
  const na = t("value.notYet");
  return (
    <Panel name="compliance" title={t("compliance.title")} extra={yearPicker}>
      <dl class="facts" data-testid="compliance-facts">
        <dt>{t("compliance.verified")}</dt>
        <dd data-testid="c-obligation">{status.obligation_t === null ? na : tonnes(status.obligation_t)}</dd>
        <dt>{t("compliance.surrendered")}</dt>
        <dd data-testid="c-surrendered">
          {tonnes(surrendered)}
          {status.pending_t > 0 && (
            <span class="muted small"> {t("compliance.pendingNote", { pending_t: status.pending_t })}</span>
          )}
        </dd>
        <dt>{t("compliance.remaining")}</dt>
        <dd data-testid="c-remaining">{status.remaining_t === null ? na : tonnes(status.remaining_t)}</dd>
        <dt>{t("compliance.split")}</dt>
        <dd>{t("compliance.splitValue", { allowances_t: status.allowances_t, offsets_t: status.offsets_t })}</dd>
        <dt>{t("compliance.offsetCap")}</dt>
        <dd data-testid="c-offset-cap">
          {status.offset_cap_t === null
            ? na
            : t("compliance.offsetCapValue", {
                offsets_t: status.offsets_t,
                offset_cap_t: status.offset_cap_t,
                offset_cap_left_t: status.offset_cap_left_t ?? 0,
              })}
        </dd>
        <dt>{t("compliance.shortfall")}</dt>
        <dd data-testid="c-shortfall" class={status.shortfall_t ? "warn" : ""}>
          {status.shortfall_t === null ? na : tonnes(status.shortfall_t)}
          {status.remaining_t !== null && status.assessed === null && (
            <span class="muted small" data-testid="c-coverable">
              {" "}
              {t("compliance.coverableNote", { coverable_t: status.coverable_t })}
            </span>
          )}
        </dd>
        <dt>{t("compliance.penalty")}</dt>
        <dd data-testid="c-penalty">
          {penalty === null ? na : money(penalty)}
          {penalty !== null && priced && (
            <span class="muted small" data-testid="c-penalty-basis">
              {" "}
              {t("compliance.penaltyBasis", {
                multiplier: status.penalty_multiplier,
                reference_price_fen: status.reference_price_fen ?? 0,
              })}
            </span>
          )}
        </dd>
        {status.deduction_owed_t > 0 && (
          <>
            <dt>{t("compliance.deduction")}</dt>
            <dd>{tonnes(status.deduction_owed_t)}</dd>
          </>
        )}
        <dt>{t("compliance.deadline")}</dt>
        {props.classDeadline ? (
          <dd data-testid="c-deadline" data-class-days-left={props.classDeadline.daysLeft}>
            {t("compliance.classDeadline", { day: props.classDeadline.day })}
            {status.assessed === null && (
              <>
                {" "}
                ·{" "}
                <b>
                  {props.classDeadline.daysLeft > 0
                    ? t("compliance.classDaysLeft", { days: props.classDeadline.daysLeft })
                    : t("compliance.classDeadlineDue")}
                </b>
              </>
            )}
          </dd>
        ) : (
          <dd data-testid="c-deadline">
            {date(status.deadline)} ·{" "}
            <b>{days >= 0 ? t("compliance.daysLeft", { days: integer(days) }) : t("compliance.deadlinePassed")}</b>
          </dd>
        )}
        {status.assessed !== null && (
          <>
            <dt>{t("compliance.assessed")}</dt>
            <dd>{t("compliance.assessedYes")}</dd>
          </>
        )}
      </dl>
      {props.plan !== null && (
        <div class="plan" data-testid="surrender-plan">
          <h3>{t("compliance.plan")}</h3>
          {props.plan.items.length === 0 ? (
            <p class="muted small">{t("compliance.planEmpty")}</p>
          ) : (
            <>
              <ul>
                {props.plan.items.map((item) => (
                  <li key={item.unit}>
                    {unitLabel(item.unit)}: {tonnes(item.qty_t)}
                  </li>
                ))}
              </ul>
              {props.plan.shortfallAfterT !== null && (
                <p class="muted small">{t("compliance.planLeaves", { shortfall_t: props.plan.shortfallAfterT })}</p>
              )}
              <button
                type="button"
                class="primary"
                disabled={busy}
                data-testid="surrender-plan-button"
                onClick={() => {
                  setMessage(null);
                  setAsked(props.plan!.items);
                }}
              >
                {t("compliance.surrenderPlan")}
              </button>
            </>
          )}
        </div>
      )}
      {status.obligation_t === null && (
        <p class="muted small" data-testid="surrender-not-yet">
          {t("compliance.notVerified")}
        </p>
      )}
      {surrenderOpen && (
        <form class="inline-form" onSubmit={submitManual} data-testid="surrender-form">
          <select
            name="unit"
            aria-label={t("compliance.unit")}
            value={unit}
            onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}
          >
            {usable.length === 0 && <option value="">{t("compliance.noUnits")}</option>}
            {usable.map((h) => (
              <option key={h.unit} value={h.unit}>
                {unitLabel(h.unit)} ({tonnes(h.available_t)})
              </option>
            ))}
          </select>
          <input
            name="surrender-qty"
            inputMode="numeric"
            aria-label={t("compliance.qty")}
            placeholder={t("compliance.qty")}
            value={qtyText}
            onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary" disabled={busy || usable.length === 0} data-testid="surrender">
            {t("compliance.surrender")}
          </button>
        </form>
      )}
      {asked && (
        <div class="confirm" role="alertdialog" aria-labelledby="surrender-confirm-text" data-testid="surrender-confirmation">
          <p id="surrender-confirm-text">
            {t("compliance.confirm", {
              year: String(status.year),
              items: asked.map((i) => `${unitLabel(i.unit)}: ${tonnes(i.qty_t)}`).join("; "),
              qty_t: asked.reduce((sum, i) => sum + i.qty_t, 0),
            })}
          </p>
          <button type="button" class="primary" disabled={busy} data-testid="surrender-confirm" onClick={() => surrender(asked)}>
            {t("compliance.confirmYes")}
          </button>{" "}
          <button type="button" data-testid="surrender-cancel" onClick={() => setAsked(null)}>
            {t("compliance.confirmNo")}
          </button>
        </div>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="compliance-message">
          {message.text}
        </p>
      )}
    </Panel>
  );
}
