// A seat's MRV year in a class (docs/classroom.md "The MRV phase"): the twelve months with
// their state, the carbon test, the checks' flags (the drafts' as they would be raised), the
// emissions as deposited, the verifier's findings and the report. As the seat itself
// (``mode`` "seat"): correct a month's carbon test or mark it not measured, deposit, and the
// default line (the year with measured carbon against the default, in tonnes and at the
// allowance's price now). As its verifier ("verifier"): force the default on a month's test and
// sign; the instructor, as the authority ("authority"), also passes or returns the months.
// Objections (docs/mrv.md "Objections"): the seat objects to its signed report with a reason
// while the phase is open, and sees the objection's status; the authority upholds it (back to
// the verifier) or dismisses it with a note. A seat's key is the account's own participant key,
// so both go to the MRV desk's routes directly.
// API: getClassMrv, getClassMrvSeat, correctClassMrvMonth, depositClassMrv, reviewClassMrv,
// addClassMrvFinding, signClassMrv, objectToVerification, decideObjection.
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { date, locale, t } from "../i18n";
import { explain } from "../problems";
import "./classroom.css";

export interface MrvFlag {
  rule_id: string;
  severity: string;
  official: boolean;
  what: string;
  numbers: Record<string, string>;
  title: string;
  title_zh: string;
}

export interface MrvTest {
  carbon: string | null;
  ncv: string;
  sampled: string;
  reported: string;
}

export interface MrvMonthView {
  month: number;
  state: string;
  deposited_on: string | null;
  review_note: string | null;
  preview: boolean;
  data: { fuels: { fuel: string; consumption: string; tests: MrvTest[] }[]; generation_mwh: string };
  flags: MrvFlag[];
  findings: { finding_id: number; change_t: string }[];
  calculated: { combustion_t: string; fuels: { carbon_source: string }[] };
  verified: { combustion_t: string };
}

export interface MrvObjection {
  reason: string;
  filed_on: string;
  decide_by: string;
  status: "open" | "upheld" | "dismissed";
  decided_on?: string;
  late?: boolean;
  note?: string | null;
}

export interface MrvReportView {
  state: string;
  verified_t: number;
  emissions_t: string;
  verifier: string;
  signed_on: string | null;
  note: string | null;
  objection: MrvObjection | null;
}

export interface MrvSeatView {
  account_id: string;
  seat: number;
  name: string;
  name_zh: string;
  year: number;
  phase: string;
  open: boolean;
  verifier: { kind: "instructor" | "seat"; seat: number | null; name: string | null; name_zh: string | null };
  fell_back: boolean;
  objected?: boolean;
  verified_t: number | null;
  months: MrvMonthView[];
  default: {
    measured_t: string;
    flagged_default_t: string;
    all_default_t: string;
    flagged_months: number[];
  } | null;
  report: MrvReportView | null;
  retained_sample?: { month: number; carbon: string };
}

export type MrvMode = "seat" | "verifier" | "authority";

/** A decimal text in tonnes, to two places, in the screen's language. */
export function decimalTonnes(text: string): string {
  const n = new Intl.NumberFormat(locale(), { maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(Number(text));
  return t("unit.tonnes", { n });
}

function flagText(flag: MrvFlag): string {
  const title = locale() === "zh-CN" ? flag.title_zh : flag.title;
  const key = `mrv.what.${flag.what}`;
  const what = t(key) === key ? flag.what : t(key);
  const numbers = Object.entries(flag.numbers)
    .map(([k, v]) => {
      const label = `mrv.n.${k}`;
      return `${t(label) === label ? k : t(label)} ${v}`;
    })
    .join(locale() === "zh-CN" ? "，" : ", ");
  const basis = t(flag.official ? "mrv.official" : "mrv.designDefault");
  return `${flag.rule_id} ${title}: ${what} (${numbers}; ${basis})`;
}

/** The default line: the year with measured carbon against the default, and what it costs. */
function DefaultLine({ view, priceFen }: { view: MrvSeatView; priceFen: number | null }) {
  const line = view.default;
  if (!line) return null;
  const flagged = line.flagged_months.length > 0;
  const withDefault = flagged ? line.flagged_default_t : line.all_default_t;
  const diff = Math.round(Number(withDefault) - Number(line.measured_t));
  return (
    <p class="small mrv-default" data-testid="mrv-default" data-diff={diff}>
      {t(flagged ? "mrv.defaultFlagged" : "mrv.defaultAll", {
        measured: decimalTonnes(line.measured_t),
        months: line.flagged_months.join(", "),
        withDefault: decimalTonnes(withDefault),
        diff_t: diff,
      })}
      {priceFen !== null && <> {t("mrv.defaultCost", { cost_fen: diff * priceFen, price_fen: priceFen })}</>}
    </p>
  );
}

/** An objection's status: open until its decision date, upheld (back to the verifier) or
 * dismissed (the report stands), with the authority's note. */
function ObjectionLine({ objection }: { objection: MrvObjection }) {
  return (
    <div class="mrv-objection small" data-testid="mrv-objection" data-status={objection.status}>
      <p class={objection.status === "open" ? "warn" : ""}>
        {t(`mrv.objection.${objection.status}`, {
          filed_on: date(objection.filed_on),
          decide_by: date(objection.decide_by),
          decided_on: objection.decided_on ? date(objection.decided_on) : "",
        })}
        {objection.late && <> {t("mrv.objection.late", { decide_by: date(objection.decide_by) })}</>}
      </p>
      <p class="muted">{t("mrv.objection.reason", { reason: objection.reason })}</p>
      {objection.note && <p class="muted">{t("mrv.objection.note", { note: objection.note })}</p>}
    </div>
  );
}

export function MrvSeat(props: {
  api: Api;
  view: MrvSeatView;
  mode: MrvMode;
  priceFen: number | null;
  onChanged: (view: MrvSeatView) => void;
}) {
  const { api, view, mode } = props;
  const [editing, setEditing] = useState<number | null>(null);
  const [carbon, setCarbon] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState("");
  const [decisionNote, setDecisionNote] = useState("");
  const seatPath = (path: string) => api.m(`/class/mrv/seats/${encodeURIComponent(view.account_id)}${path}`);
  const objectionPath = (path = "") =>
    api.m(`/mrv/accounts/${encodeURIComponent(view.account_id)}/years/${view.year}/report/objection${path}`);
  const reread = () => api.get<MrvSeatView>(seatPath(""));

  async function act(work: () => Promise<MrvSeatView>, done: string) {
    setBusy(true);
    setMessage(null);
    try {
      const next = await work();
      props.onChanged(next);
      setMessage({ ok: true, text: done });
      setEditing(null);
    } catch (error) {
      setMessage({ ok: false, text: explain(error) });
    } finally {
      setBusy(false);
    }
  }

  const editable = (m: MrvMonthView) => view.open && ["draft", "returned"].includes(m.state);
  const deposited = view.months.filter((m) => m.state === "deposited").length;
  const drafts = view.months.filter((m) => editable(m)).length;
  const passed = view.months.filter((m) => m.state === "passed" || m.state === "locked").length;
  const sample = view.retained_sample;
  const report = view.report;
  const unsigned = !report || report.state === "returned"; // the verifier may still add and sign
  const objection = report?.objection ?? null;
  const mayObject = mode === "seat" && view.open && report?.state === "signed" && !objection;
  const mayDecide = mode === "authority" && view.open && objection?.status === "open";
  return (
    <div class="mrv-seat" data-testid={`mrv-seat-${view.account_id}`} data-mode={mode}>
      <p class="small">
        {t("mrv.counts", { deposited: view.months.length - drafts, passed, months: view.months.length })}{" "}
        {t("mrv.verifier", {
          who:
            view.verifier.kind === "instructor"
              ? t("mrv.instructor")
              : (locale() === "zh-CN" ? view.verifier.name_zh : view.verifier.name) ?? "",
        })}
      </p>
      {mode === "seat" && <DefaultLine view={view} priceFen={props.priceFen} />}
      <div class="table-scroll" tabIndex={0} role="region" aria-label={t("mrv.months", { year: view.year })}>
        <table class="mrv-months">
          <caption class="sr-only">{t("mrv.months", { year: view.year })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("mrv.month")}</th>
              <th scope="col">{t("mrv.state")}</th>
              <th scope="col">{t("mrv.carbon")}</th>
              <th scope="col">{t("mrv.emissions")}</th>
              <th scope="col">{t("mrv.flags")}</th>
              {view.open && <th scope="col">{t("mrv.action")}</th>}
            </tr>
          </thead>
          <tbody>
            {view.months.map((m) => {
              const test = m.data.fuels[0]?.tests[0];
              const source = m.calculated.fuels[0]?.carbon_source ?? "";
              return [
                <tr key={m.month} data-testid={`mrv-month-${m.month}`} data-state={m.state} class={m.flags.length ? "flagged" : ""}>
                  <td>{m.month}</td>
                  <td>
                    {t(`mrv.stateName.${m.state}`)}
                    {m.findings.length > 0 && <span class="badge">{t("mrv.findings", { n: m.findings.length })}</span>}
                  </td>
                  <td data-testid={`mrv-carbon-${m.month}`}>
                    {test?.carbon ?? t("mrv.notMeasured")}
                    <span class="muted small"> {t(`mrv.source.${source}`)}</span>
                  </td>
                  <td>
                    {decimalTonnes(m.calculated.combustion_t)}
                    {m.verified.combustion_t !== m.calculated.combustion_t && (
                      <div class="small warn">{t("mrv.asVerified", { t: decimalTonnes(m.verified.combustion_t) })}</div>
                    )}
                  </td>
                  <td class="small">{m.flags.length === 0 ? t("mrv.noFlags") : m.flags.map((f) => f.rule_id).join(", ")}</td>
                  {view.open && (
                    <td>
                      {mode === "seat" && editable(m) && editing !== m.month && (
                        <button
                          type="button"
                          data-testid={`mrv-edit-${m.month}`}
                          onClick={() => {
                            setEditing(m.month);
                            setCarbon(test?.carbon ?? "");
                          }}
                        >
                          {t("mrv.edit")}
                        </button>
                      )}
                      {mode !== "seat" && ["deposited", "passed"].includes(m.state) && unsigned && (
                        <button
                          type="button"
                          disabled={busy}
                          data-testid={`mrv-finding-${m.month}`}
                          onClick={() =>
                            void act(
                              () => api.post<MrvSeatView>(seatPath("/findings"), { month: m.month }),
                              t("mrv.findingAdded", { month: m.month }),
                            )
                          }
                        >
                          {t("mrv.forceDefault")}
                        </button>
                      )}
                    </td>
                  )}
                </tr>,
                (m.flags.length > 0 || (sample && sample.month === m.month && mode === "seat" && editable(m))) && (
                  <tr key={`${m.month}-flags`} class="mrv-flag-row">
                    <td colSpan={view.open ? 6 : 5} class="small" data-testid={`mrv-flags-${m.month}`}>
                      {m.flags.map((f) => (
                        <div key={f.rule_id + f.what} data-rule={f.rule_id} class={f.severity === "error" ? "warn" : ""}>
                          {m.preview && <span class="muted">{t("mrv.preview")} </span>}
                          {flagText(f)}
                        </div>
                      ))}
                      {sample && sample.month === m.month && mode === "seat" && editable(m) && (
                        <div class="muted" data-testid="mrv-retained">
                          {t("mrv.retained", { carbon: sample.carbon })}
                        </div>
                      )}
                    </td>
                  </tr>
                ),
              ];
            })}
          </tbody>
        </table>
      </div>
      {editing !== null && (
        <form
          class="inline-form mrv-edit"
          data-testid="mrv-edit-form"
          onSubmit={(event) => {
            event.preventDefault();
            void act(
              () => api.put<MrvSeatView>(api.m(`/class/mrv/months/${editing}`), { carbon: carbon.trim() }),
              t("mrv.saved", { month: editing }),
            );
          }}
        >
          <label>
            {t("mrv.carbonOf", { month: editing })}{" "}
            <input
              name="mrv-carbon"
              inputMode="decimal"
              value={carbon}
              onInput={(e) => setCarbon((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="primary" disabled={busy} data-testid="mrv-save">
            {t("mrv.save")}
          </button>
          <button
            type="button"
            disabled={busy}
            data-testid="mrv-not-measured"
            onClick={() =>
              void act(
                () => api.put<MrvSeatView>(api.m(`/class/mrv/months/${editing}`), { carbon: null }),
                t("mrv.saved", { month: editing }),
              )
            }
          >
            {t("mrv.markNotMeasured")}
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            {t("console.cancel")}
          </button>
        </form>
      )}
      <div class="mrv-actions">
        {mode === "seat" && view.open && drafts > 0 && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            data-testid="mrv-deposit"
            onClick={() =>
              void act(() => api.post<MrvSeatView>(api.m("/class/mrv/deposit"), {}), t("mrv.depositedAll", { n: drafts }))
            }
          >
            {t("mrv.deposit", { n: drafts })}
          </button>
        )}
        {mode === "authority" && view.open && deposited > 0 && (
          <>
            <button
              type="button"
              class="primary"
              disabled={busy}
              data-testid="mrv-pass"
              onClick={() =>
                void act(() => api.post<MrvSeatView>(seatPath("/review"), { decision: "pass" }), t("mrv.passedAll", { n: deposited }))
              }
            >
              {t("mrv.pass", { n: deposited })}
            </button>{" "}
            <button
              type="button"
              disabled={busy}
              data-testid="mrv-return"
              onClick={() =>
                void act(
                  () => api.post<MrvSeatView>(seatPath("/review"), { decision: "return", note: t("mrv.returnNote") }),
                  t("mrv.returnedAll", { n: deposited }),
                )
              }
            >
              {t("mrv.return", { n: deposited })}
            </button>{" "}
          </>
        )}
        {mode !== "seat" && view.open && unsigned && (
          <button
            type="button"
            class="primary"
            disabled={busy || passed < 12}
            data-testid="mrv-sign"
            onClick={() => void act(() => api.post<MrvSeatView>(seatPath("/sign"), {}), t("mrv.signedNow"))}
          >
            {t("mrv.sign")}
          </button>
        )}
      </div>
      {report && (
        <p class="small" data-testid="mrv-report" data-state={report.state}>
          {t(report.state === "signed" && objection?.status === "open" ? "mrv.report.signedObjected" : `mrv.report.${report.state}`, {
            verified_t: report.verified_t,
          })}
        </p>
      )}
      {objection && <ObjectionLine objection={objection} />}
      {mayObject && (
        <form
          class="stack mrv-object-form"
          data-testid="mrv-object-form"
          onSubmit={(event) => {
            event.preventDefault();
            void act(async () => {
              await api.post(objectionPath(), { reason: reason.trim() });
              setReason("");
              return reread();
            }, t("mrv.object.filed"));
          }}
        >
          <p class="muted small">{t("mrv.object.means", { signed_on: report?.signed_on ? date(report.signed_on) : "–" })}</p>
          <label class="field">
            <span>{t("mrv.object.reason")}</span>
            <textarea
              name="mrv-objection"
              rows={2}
              maxLength={2000}
              value={reason}
              onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
            />
          </label>
          <div class="mrv-actions">
            <button type="submit" disabled={busy || !reason.trim()} data-testid="mrv-object">
              {t("mrv.object.submit")}
            </button>
          </div>
        </form>
      )}
      {mayDecide && (
        <form
          class="stack mrv-decide-form"
          data-testid="mrv-decide-form"
          onSubmit={(event) => event.preventDefault()}
        >
          <label class="field">
            <span>{t("mrv.decide.note")}</span>
            <textarea
              name="mrv-decision-note"
              rows={2}
              maxLength={2000}
              value={decisionNote}
              onInput={(e) => setDecisionNote((e.target as HTMLTextAreaElement).value)}
            />
          </label>
          <div class="mrv-actions">
            {(["upheld", "dismissed"] as const).map((decision) => (
              <button
                key={decision}
                type="button"
                class={decision === "dismissed" ? "primary" : ""}
                disabled={busy}
                data-testid={`mrv-decide-${decision}`}
                onClick={() =>
                  void act(async () => {
                    const note = decisionNote.trim();
                    await api.post(objectionPath("/decision"), { decision, note: note || null });
                    setDecisionNote("");
                    return reread();
                  }, t(`mrv.decide.${decision}Done`))
                }
              >
                {t(`mrv.decide.${decision}`)}
              </button>
            ))}
          </div>
        </form>
      )}
      {view.verified_t !== null && (
        <p class="ok-text" data-testid="mrv-verified">
          {t(view.objected ? "mrv.fellBackObjected" : view.fell_back ? "mrv.fellBack" : "mrv.verifiedNow", {
            verified_t: view.verified_t,
          })}
        </p>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"} data-testid="mrv-message">
          {message.text}
        </p>
      )}
      {mode === "seat" && view.months.length > 0 && (
        <p class="muted small">{t("mrv.note")}</p>
      )}
    </div>
  );
}
