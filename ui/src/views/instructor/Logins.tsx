// The participants' logins: one card per seat (the address to open, a QR code of the seat's
// login link, market, account, key), to print several to an A4 page and cut out, or to download
// as CSV with each seat's link. The link carries the market and the key in its fragment, which
// no request sends (session.ts). The address is one trainees can reach, never a loopback one
// (publicAddress.ts, AddressPanel.tsx). A key is shown once by the server (at creation or when
// fresh keys are issued), so the console keeps the last ones in this tab's session storage,
// beside the instructor's own key. API: listSeats, issueSeatKeys, getPublicAddress.
import { useEffect, useMemo, useState } from "preact/hooks";
import { type Api, optional } from "../../api";
import { Panel } from "../../components/Panel";
import { t } from "../../i18n";
import { loginLink } from "../../session";
import { AddressPanel } from "./AddressPanel";
import { type Loose, type Seat, classOptional, classPaths, csvLine, download, nameIn, seatsOf } from "./classApi";
import { ConfirmButton, OutcomeLine, useAction } from "./common";
import { type ServerAddress, chooseAddress, saveAddress, savedAddress } from "./publicAddress";
import { QrCode } from "./QrCode";

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

const KEY_GROUP = 4; // characters between the gaps of a printed key

/** A key in groups: inline spans spaced apart by the stylesheet, a line break allowed between
 * them (wbr). The gaps help reading the key out and typing it; they are no characters, so the
 * key copies whole (and the login drops white space anyway). */
function KeyText({ value }: { value: string }) {
  const prefix = value.startsWith("cx_") ? "cx_" : "";
  const groups = [prefix, ...(value.slice(prefix.length).match(new RegExp(`.{1,${KEY_GROUP}}`, "g")) ?? [])];
  return <>{groups.filter((group) => group).flatMap((group, i) => [i > 0 && <wbr key={`w${i}`} />, <span key={i}>{group}</span>])}</>;
}

export function Logins({ api, marketId }: { api: Api; marketId: string }) {
  const [seats, setSeats] = useState<Seat[] | null>(null);
  const [isClass, setIsClass] = useState(true);
  const [outcome, run, setOutcome] = useAction();
  const [server, setServer] = useState<ServerAddress | null>(null);
  const [saved, setSaved] = useState<string | null>(savedAddress);
  const address = useMemo(() => chooseAddress(saved, server, location.origin), [saved, server]);
  const site = address.base ? `${address.base}/ui/` : null; // what a trainee types
  const link = (s: Seat) => (address.base && s.key ? loginLink(address.base, marketId, s.key) : null);

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

  useEffect(() => {
    optional(api.get<ServerAddress>("/v1/public-address")).then(setServer, () => undefined);
  }, [api]);

  function remember(base: string | null) {
    saveAddress(base);
    setSaved(base);
  }

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
    const header = csvLine([
      t("logins.market"),
      t("logins.seat"),
      t("logins.account"),
      t("logins.name"),
      t("logins.key"),
      t("logins.url"),
      t("logins.link"),
    ]);
    const rows = (seats ?? []).map((s) => csvLine([marketId, s.seat, s.account_id, nameIn(s), s.key, site, link(s)]));
    // A byte-order mark so that spreadsheet programs read the Chinese headers as UTF-8.
    download(`${marketId}-logins.csv`, "\ufeff" + [header, ...rows].join("\r\n") + "\r\n");
    setOutcome({ ok: true, text: t("logins.downloaded") });
  }

  const withKeys = (seats ?? []).filter((s) => s.key);
  return (
    <Panel name="logins" title={t("logins.title")}>
      <div class="row no-print">
        <ConfirmButton label={t("logins.issue")} question={t("logins.issueConfirm")} testId="issue-keys" danger onConfirm={issue} />
        <button type="button" data-testid="print-logins" disabled={withKeys.length === 0 || !site} onClick={() => window.print()}>
          {t("logins.print")}
        </button>
        <button type="button" data-testid="logins-csv" disabled={withKeys.length === 0} onClick={csv}>
          {t("logins.csv")}
        </button>
      </div>
      <AddressPanel address={address} server={server} onSave={remember} />
      <div class="no-print">
        <OutcomeLine outcome={outcome} testId="logins-message" />
        {seats && withKeys.length === 0 && seats.length > 0 && <p class="muted small">{t("logins.noKeys")}</p>}
        {seats && seats.length === 0 && <p class="muted small">{t("logins.none")}</p>}
      </div>
      <div class="seat-cards print-area" data-testid="seat-cards">
        {(seats ?? []).map((s) => {
          const seatLink = link(s);
          return (
            <article class="seat-card" key={s.account_id} data-testid="seat-card" data-account={s.account_id}>
              <div class="seat-card-head">
                <h3>{t("logins.cardTitle", { seat: String(s.seat) })}</h3>
                {site ? (
                  <>
                    <p class="small">{t("logins.scan")}</p>
                    <p class="site" data-testid="card-url">
                      {site}
                    </p>
                  </>
                ) : (
                  <p class="small muted" data-testid="card-url">
                    {t("logins.noAddress")}
                  </p>
                )}
              </div>
              {seatLink && <QrCode text={seatLink} label={t("logins.qrLabel", { seat: String(s.seat) })} testId="card-qr" />}
              <dl>
                <dt>{t("logins.key")}</dt>
                <dd class="key" data-testid="card-key">
                  {s.key ? <KeyText value={s.key} /> : t("logins.keyUnknown")}
                </dd>
                <dt>{t("logins.account")}</dt>
                <dd>
                  {s.account_id}
                  {nameIn(s) ? ` · ${nameIn(s)}` : ""}
                </dd>
                <dt>{t("logins.market")}</dt>
                <dd data-testid="card-market">{marketId}</dd>
              </dl>
            </article>
          );
        })}
      </div>
    </Panel>
  );
}
