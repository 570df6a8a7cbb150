// End-of-year results per account (compliance outcome, penalty, trades, volume, cash change,
// abatement cost when known, the compliance cost), and the same as CSV from the server, in yuan
// with headers in the console's language. The columns are those the server sends, in a fixed
// order for the known ones; names in the console's language. API: getClassResults
// (?format=csv&lang=).
import { useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel, Scroll } from "../../components/Panel";
import { integer, isIdentifier, locale, money, t } from "../../i18n";
import { type Loose, classOptional, classPaths, download, nameIn } from "./classApi";
import { OutcomeLine, useAction, usePoll, word } from "./common";

const POLL_MS = 10_000;
// The columns the table shows (the CSV export has every column the server has): the outcome
// and what it cost first, then how.
const COLUMNS = [
  "seat",
  "account_id",
  "role",
  "complied",
  "compliance_cost_fen",
  "obligation_t",
  "surrendered_t",
  "shortfall_t",
  "penalty_fen",
  "trades",
  "volume_t",
  "cash_change_fen",
  "pnl_fen",
  "abated_t",
  "abatement_cost_fen",
];
// A byte-order mark: the server's CSV starts with one so that spreadsheet programs read the
// Chinese as UTF-8, and fetch's text() drops it; the file saved keeps it.
const BOM = "\ufeff";

/** A cell as text: money for ``_fen``, whole tonnes for ``_t``, words for an outcome. */
export function cell(column: string, value: unknown): string {
  if (column === "complied" && (value === null || value === undefined)) return t("results.notAssessed");
  if (value === null || value === undefined || value === "") return t("value.none");
  if (typeof value === "number") {
    if (isIdentifier(column)) return String(value);
    return column.endsWith("_fen") ? money(value) : integer(value);
  }
  if (column === "complied") return value ? t("results.complied") : t("results.notComplied");
  if (typeof value === "boolean") return value ? t("console.yes") : t("console.no");
  if (column === "role") return word("results.role", String(value));
  return String(value);
}

export function Results({ api, marketId }: { api: Api; marketId: string }) {
  const [rows, setRows] = useState<Loose[] | null | undefined>(undefined);
  const [resultYear, setResultYear] = useState<number | null>(null);
  const [outcome, run] = useAction();

  usePoll(
    async () => {
      const raw = await classOptional(api.get<Loose | Loose[]>(classPaths.results(api)));
      setRows(raw === null ? null : Array.isArray(raw) ? raw : ((raw.results ?? []) as Loose[]));
      if (raw && !Array.isArray(raw) && typeof raw.compliance_year === "number") setResultYear(raw.compliance_year);
    },
    POLL_MS,
    [api],
  );

  if (rows === null)
    return (
      <Panel name="results" title={t("results.title")}>
        <p class="muted">{t("results.notClass")}</p>
      </Panel>
    );
  const present = new Set((rows ?? []).flatMap((r) => Object.keys(r)));
  const columns = COLUMNS.filter((c) => present.has(c));
  // The seats (the trainees) first, in seat order; then everyone else by account.
  const ordered = [...(rows ?? [])].sort((a, b) => {
    const sa = typeof a.seat === "number" ? a.seat : Infinity;
    const sb = typeof b.seat === "number" ? b.seat : Infinity;
    return sa - sb || String(a.account_id).localeCompare(String(b.account_id));
  });

  function exportCsv() {
    void run(async () => {
      const text = await api.text(`${classPaths.results(api)}?format=csv&lang=${locale()}`);
      const withBom = text.startsWith(BOM) ? text : BOM + text;
      download(`${marketId}-results${resultYear ? `-${resultYear}` : ""}.csv`, withBom);
      return t("results.downloaded");
    });
  }

  return (
    <Panel
      name="results"
      title={resultYear ? t("results.titleYear", { year: String(resultYear) }) : t("results.title")}
      extra={
        <button type="button" data-testid="results-csv" onClick={exportCsv}>
          {t("results.csv")}
        </button>
      }
    >
      <OutcomeLine outcome={outcome} testId="results-message" />
      {rows && rows.length === 0 && <p class="muted small">{t("results.empty")}</p>}
      {rows && rows.length > 0 && (
        <Scroll label={t("results.title")} across>
          <table data-testid="results-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} class={/_(fen|t)$|^(trades|seat)$/.test(c) ? "num" : ""}>
                    {word("results.col", c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ordered.map((row, i) => (
                <tr key={String(row.account_id ?? i)} data-testid="result-row">
                  {columns.map((c) => (
                    <td key={c} class={typeof row[c] === "number" ? "num" : ""}>
                      {cell(c, row[c])}
                      {c === "account_id" && nameIn(row) && nameIn(row) !== row.account_id && (
                        <span class="muted small"> {nameIn(row)}</span>
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </Panel>
  );
}
