// The participants' logins: one card per seat (market, account, key, the address to open), to
// print and cut out, or to download as CSV. A key is shown once by the server (at creation or
// when fresh keys are issued), so the console keeps the last ones in this tab's session
// storage, beside the instructor's own key. API: listSeats, issueSeatKeys.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel } from "../../components/Panel";
import { t } from "../../i18n";
import { type Loose, type Seat, classOptional, classPaths, csvLine, download, nameIn, seatsOf } from "./classApi";
import { ConfirmButton, OutcomeLine, useAction } from "./common";

const STORAGE_PREFIX = "carbonx.seats.";

export function rememberSeatKeys(marketId: string, seats: Seat[]): void {
  sessionStorage.setItem(STORAGE_PREFIX + marketId, JSON.stringify(seats.filter((s) => s.key)));
}

function rememberedSeatKeys(marketId: string): Seat[] {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_PREFIX + marketId) ?? "[]") as Seat[];
  } catch {
    return [];
  }
}

/** The address a trainee opens: this server's UI. */
function loginUrl(): string {
  return `${location.origin}/ui/`;
}

export function Logins({ api, marketId }: { api: Api; marketId: string }) {
  const [seats, setSeats] = useState<Seat[] | null>(null);
  const [isClass, setIsClass] = useState(true);
  const [outcome, run, setOutcome] = useAction();

  function merge(listed: Seat[] | null): Seat[] {
    const known = new Map(rememberedSeatKeys(marketId).map((s) => [s.account_id, s]));
    const rows = listed ?? [...known.values()];
    return rows.map((s) => ({ ...known.get(s.account_id), ...s, key: s.key ?? known.get(s.account_id)?.key }));
  }

  useEffect(() => {
    classOptional(api.get<Loose | Loose[]>(classPaths.seats(api)))
      .then((raw) => {
        setIsClass(raw !== null);
        setSeats(raw ? merge(seatsOf(raw)) : []);
      })
      .catch((error) => {
        setSeats(merge(null));
        void run(() => Promise.reject(error));
      });
  }, [api, marketId]);

  if (!isClass)
    return (
      <Panel name="logins" title={t("logins.title")}>
        <p class="muted">{t("logins.notClass")}</p>
      </Panel>
    );

  function issue() {
    void run(async () => {
      const fresh = seatsOf(await api.post<Loose | Loose[]>(classPaths.seatKeys(api), {}));
      rememberSeatKeys(marketId, fresh);
      setSeats(merge(fresh));
      return t("logins.issued", { n: fresh.length });
    });
  }

  function csv() {
    const header = csvLine([t("logins.market"), t("logins.seat"), t("logins.account"), t("logins.name"), t("logins.key"), t("logins.url")]);
    const rows = (seats ?? []).map((s) => csvLine([marketId, s.seat, s.account_id, nameIn(s), s.key, loginUrl()]));
    // A byte-order mark so that spreadsheet programs read the Chinese headers as UTF-8.
    download(`${marketId}-logins.csv`, "\ufeff" + [header, ...rows].join("\r\n") + "\r\n");
    setOutcome({ ok: true, text: t("logins.downloaded") });
  }

  const withKeys = (seats ?? []).filter((s) => s.key);
  return (
    <Panel name="logins" title={t("logins.title")}>
      <div class="row no-print">
        <ConfirmButton label={t("logins.issue")} question={t("logins.issueConfirm")} testId="issue-keys" danger onConfirm={issue} />
        <button type="button" data-testid="print-logins" disabled={withKeys.length === 0} onClick={() => window.print()}>
          {t("logins.print")}
        </button>
        <button type="button" data-testid="logins-csv" disabled={withKeys.length === 0} onClick={csv}>
          {t("logins.csv")}
        </button>
      </div>
      <div class="no-print">
        <OutcomeLine outcome={outcome} testId="logins-message" />
        {seats && withKeys.length === 0 && seats.length > 0 && <p class="muted small">{t("logins.noKeys")}</p>}
        {seats && seats.length === 0 && <p class="muted small">{t("logins.none")}</p>}
      </div>
      <div class="seat-cards print-area" data-testid="seat-cards">
        {(seats ?? []).map((s) => (
          <article class="seat-card" key={s.account_id} data-testid="seat-card" data-account={s.account_id}>
            <h3>{t("logins.cardTitle", { seat: String(s.seat) })}</h3>
            <dl>
              <dt>{t("logins.url")}</dt>
              <dd>{loginUrl()}</dd>
              <dt>{t("logins.market")}</dt>
              <dd data-testid="card-market">{marketId}</dd>
              <dt>{t("logins.account")}</dt>
              <dd>
                {s.account_id}
                {nameIn(s) ? ` · ${nameIn(s)}` : ""}
              </dd>
              <dt>{t("logins.key")}</dt>
              <dd class="key" data-testid="card-key">
                {s.key ?? t("logins.keyUnknown")}
              </dd>
            </dl>
          </article>
        ))}
      </div>
    </Panel>
  );
}
