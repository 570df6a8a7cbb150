// The console's MRV tab (docs/classroom.md "The MRV phase"): who verifies the seats (the
// instructor or the trainees, or no MRV phase), every seat's data quality at a glance (months
// deposited and passed, open flags, findings, the report, verified, fell back), and one seat's
// year to pass or return months and, where the instructor verifies, force the default and sign;
// a seat's open objection to its signed report is marked, and upheld or dismissed in its year.
// API: getClassMrv, setClassMrv, getClassMrvSeat and the seat's steps (MrvSeat).
import { useState } from "preact/hooks";
import type { Api } from "../../api";
import { type MrvSeatView, MrvSeat } from "../../components/MrvSeat";
import { usePrice } from "../../components/MrvPanel";
import { Panel } from "../../components/Panel";
import { locale, t, tonnes } from "../../i18n";
import { OutcomeLine, useAction, usePoll } from "./common";

const POLL_MS = 4000;

interface Quality {
  months: number;
  drafts: number;
  deposited: number;
  passed: number;
  open_flags: number;
  findings: number;
  report: string | null;
  objection: "open" | "upheld" | "dismissed" | null;
  verified_t: number | null;
}

interface Overview {
  enabled: boolean;
  verifiers: "instructor" | "trainees" | null;
  phase: string;
  year: number;
  entered: boolean;
  seats: {
    account_id: string;
    seat: number;
    name: string;
    name_zh: string;
    verifier: { kind: string; seat: number | null };
    fell_back: boolean;
    objected: boolean;
    quality: Quality | null;
    verified_t: number | null;
  }[];
}

export function MrvConsole({ api }: { api: Api }) {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [seat, setSeat] = useState<MrvSeatView | null>(null);
  const [outcome, run] = useAction();
  const price = usePrice(api, overview?.year ?? null);

  async function load() {
    setOverview(await api.get<Overview>(api.m("/class/mrv")));
    if (chosen) setSeat(await api.get<MrvSeatView>(api.m(`/class/mrv/seats/${encodeURIComponent(chosen)}`)));
  }
  usePoll(load, POLL_MS, [api, chosen]);

  if (!overview) return null;
  const mode = overview.verifiers ?? "off";
  return (
    <div class="console-grid">
      <Panel name="mrv-settings" title={t("mrv.console.title")}>
        <label class="field">
          <span>{t("mrv.console.who")}</span>
          <select
            data-testid="mrv-verifiers"
            value={mode}
            onChange={(e) => {
              const value = (e.target as HTMLSelectElement).value;
              void run(async () => {
                await api.put(api.m("/class/mrv/settings"), { verifiers: value === "off" ? null : value });
                await load();
                return t("mrv.console.set");
              });
            }}
          >
            <option value="off">{t("mrv.console.off")}</option>
            <option value="instructor">{t("mrv.console.instructor")}</option>
            <option value="trainees">{t("mrv.console.trainees")}</option>
          </select>
        </label>
        <p class="muted small">{t("mrv.console.means")}</p>
        <OutcomeLine outcome={outcome} testId="mrv-settings-message" />
      </Panel>
      {overview.entered && (
        <Panel name="mrv-quality" title={t("mrv.console.quality", { year: overview.year })}>
          <div class="table-scroll" tabIndex={0} role="region" aria-label={t("mrv.console.quality", { year: overview.year })}>
            <table data-testid="mrv-quality">
              <thead>
                <tr>
                  <th scope="col">{t("mrv.console.seat")}</th>
                  <th scope="col">{t("mrv.console.verifier")}</th>
                  <th scope="col">{t("mrv.console.deposited")}</th>
                  <th scope="col">{t("mrv.console.passed")}</th>
                  <th scope="col">{t("mrv.flags")}</th>
                  <th scope="col">{t("mrv.console.report")}</th>
                  <th scope="col">{t("mrv.console.verified")}</th>
                </tr>
              </thead>
              <tbody>
                {overview.seats.map((s) => {
                  const q = s.quality;
                  return (
                    <tr key={s.account_id} data-testid={`mrv-row-${s.account_id}`} class={chosen === s.account_id ? "on" : ""}>
                      <td>
                        <button type="button" class="link" data-testid={`mrv-open-${s.account_id}`} onClick={() => setChosen(s.account_id)}>
                          {locale() === "zh-CN" ? s.name_zh : s.name}
                        </button>
                      </td>
                      <td>{s.verifier.kind === "instructor" ? t("mrv.instructor") : t("mrv.console.seatN", { n: s.verifier.seat ?? 0 })}</td>
                      <td>{q ? `${q.deposited}/${q.months}` : "–"}</td>
                      <td>{q ? `${q.passed}/${q.months}` : "–"}</td>
                      <td class={q && q.open_flags > 0 ? "warn" : ""}>{q ? q.open_flags : "–"}</td>
                      <td>
                        {q?.report ? t(`mrv.reportState.${q.report}`) : t("mrv.console.noReport")}
                        {q?.objection === "open" && !s.objected && (
                          <>
                            {" "}
                            <span class="badge warn" data-testid={`mrv-objection-open-${s.account_id}`}>
                              {t("mrv.console.objectionOpen")}
                            </span>
                          </>
                        )}
                        {s.objected && (
                          <>
                            {" "}
                            <span class="badge warn" data-testid={`mrv-objected-${s.account_id}`}>
                              {t("mrv.console.objected")}
                            </span>
                          </>
                        )}
                      </td>
                      <td>
                        {s.verified_t !== null ? tonnes(s.verified_t) : "–"}
                        {s.fell_back && <span class="badge warn" data-testid={`mrv-fell-back-${s.account_id}`}>{t("mrv.console.fellBack")}</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </Panel>
      )}
      {seat && chosen && (
        <Panel name="mrv-seat" title={locale() === "zh-CN" ? seat.name_zh : seat.name}>
          <MrvSeat
            api={api}
            view={seat}
            mode="authority"
            priceFen={price}
            onChanged={(v) => {
              setSeat(v);
              void load();
            }}
          />
        </Panel>
      )}
    </div>
  );
}
