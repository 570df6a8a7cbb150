// Large-holder reports (大户报告): each account whose position rose above the rule set's
// reporting threshold (a covered entity's own allocation added), once a trading day at most,
// the latest first: the account (a class seat with its name) and the day, its position, the
// threshold and how far over it is. listLargeHolderReports answers the reports so far; the
// operators' WebSocket channel `large_holders` adds each new one as it is made, marked new
// until the console is next opened. API: listLargeHolderReports, listSeats (a class's names).
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel, Scroll } from "../../components/Panel";
import { date, t, tonnes } from "../../i18n";
import { explain } from "../../problems";
import type { Feed, Message } from "../../ws";
import { type Loose, type Seat, classOptional, classPaths, nameIn, seatsOf } from "./classApi";

export interface LargeHolderReport {
  seq: number; // the journal seq of the command that made it
  account_id: string;
  trading_day: string;
  position_t: number;
  threshold_t: number;
}

function reportOf(raw: Loose, seq: unknown): LargeHolderReport {
  const num = (value: unknown) => (typeof value === "number" ? value : 0);
  return {
    seq: num(seq),
    account_id: String(raw.account_id ?? ""),
    trading_day: String(raw.trading_day ?? ""),
    position_t: num(raw.position_t),
    threshold_t: num(raw.threshold_t),
  };
}

const sameReport = (a: LargeHolderReport, b: LargeHolderReport) =>
  a.seq === b.seq && a.account_id === b.account_id && a.trading_day === b.trading_day;

export function LargeHolders({ api, feed }: { api: Api; feed: Feed }) {
  const [reports, setReports] = useState<LargeHolderReport[] | null>(null);
  const [fresh, setFresh] = useState<LargeHolderReport[]>([]); // arrived while the panel is open
  const [names, setNames] = useState<Map<string, Seat>>(new Map());
  const [failure, setFailure] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      api.get<{ reports: Loose[] }>(api.m("/large-holder-reports")).then(
        (read) => {
          if (!live) return;
          setFailure(null);
          setReports(read.reports.map((r) => reportOf(r, r.seq)));
        },
        (error) => live && setFailure(error),
      );
    void load();
    // A class names its seats; any other market shows account ids alone.
    classOptional(api.get<Loose>(classPaths.seats(api))).then(
      (raw) => live && raw && setNames(new Map(seatsOf(raw).map((s) => [s.account_id, s]))),
      () => undefined,
    );
    const stop = feed.listen((message: Message) => {
      if (message.type !== "large_holder_report") return;
      const report = reportOf(message, message.market_seq);
      setReports((current) => (current?.some((r) => sameReport(r, report)) ? current : [report, ...(current ?? [])]));
      setFresh((current) => [...current, report]);
    });
    feed.subscribe("large_holders");
    const stopReconnect = feed.onReconnect(() => void load());
    return () => {
      live = false;
      stop();
      stopReconnect();
      feed.unsubscribe("large_holders");
    };
  }, [api]);

  return (
    <Panel name="large-holders" title={t("holders.title")}>
      <p class="muted small">{t("holders.hint")}</p>
      {failure !== null && (
        <p class="error" role="alert">
          {explain(failure)}
        </p>
      )}
      {reports !== null && reports.length === 0 && (
        <p class="muted small" data-testid="holders-none">
          {t("holders.none")}
        </p>
      )}
      {reports !== null && reports.length > 0 && (
        <Scroll label={t("holders.title")} across>
          <table data-testid="large-holders">
            <thead>
              <tr>
                <th scope="col">{t("holders.accountDay")}</th>
                <th scope="col" class="num">
                  {t("holders.position")}
                </th>
                <th scope="col" class="num">
                  {t("holders.threshold")}
                </th>
                <th scope="col" class="num">
                  {t("holders.over")}
                </th>
              </tr>
            </thead>
            <tbody>
              {reports.map((r) => {
                const seat = names.get(r.account_id);
                const isNew = fresh.some((f) => sameReport(f, r));
                return (
                  <tr
                    key={`${r.seq}-${r.account_id}-${r.trading_day}`}
                    data-testid="holder-row"
                    data-account={r.account_id}
                    class={isNew ? "fresh" : ""}
                  >
                    <td class="name">
                      {r.account_id}
                      {seat && nameIn(seat) && <span class="muted small"> {nameIn(seat)}</span>}
                      {isNew && <span class="badge warn-badge">{t("holders.new")}</span>}
                      <span class="sub" data-testid="holder-day">
                        {date(r.trading_day)}
                      </span>
                    </td>
                    <td class="num" data-testid="holder-position">
                      {tonnes(r.position_t)}
                    </td>
                    <td class="num" data-testid="holder-threshold">
                      {tonnes(r.threshold_t)}
                    </td>
                    <td class="num warn" data-testid="holder-over">
                      {tonnes(r.position_t - r.threshold_t)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Scroll>
      )}
    </Panel>
  );
}
