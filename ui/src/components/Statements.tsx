// The account's daily statements (日结单): one per cleared trading day, read one day at a time,
// the latest first: cash at the day's end (available, on hold, withdrawable), the day's fees,
// its trades by instrument (tonnes bought and sold and what they came to) and its holdings by
// unit and state. listStatements answers the days so far; the WebSocket `statements` channel
// brings each new day's statement as the day ends (docs/api-ws.md).
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { date, integer, money, t, tonnes } from "../i18n";
import { explain } from "../problems";
import type { Feed, Message } from "../ws";
import { unitLabel } from "./Account";
import { Panel } from "./Panel";

/** One instrument's trades of the day. */
export interface DayTrades {
  bought_t: number;
  bought_fen: number;
  sold_t: number;
  sold_fen: number;
}

/** A listStatements item (and a `statement` message less its type and market_seq). */
export interface Statement {
  trading_day: string;
  cash_available_fen: number;
  cash_held_fen: number;
  cash_withdrawable_fen: number;
  fees_fen: number;
  trades: Record<string, DayTrades>;
  holdings: Record<string, Record<string, number>>; // unit -> state -> tonnes
}

// The holding states in the order the account panel shows them, with its words for them.
const STATES = [
  ["available", "account.available"],
  ["held", "account.held"],
  ["pending", "account.pending"],
  ["frozen", "account.frozen"],
] as const;

function statementOf(raw: Record<string, unknown>): Statement {
  const num = (value: unknown) => (typeof value === "number" ? value : 0);
  return {
    trading_day: String(raw.trading_day ?? ""),
    cash_available_fen: num(raw.cash_available_fen),
    cash_held_fen: num(raw.cash_held_fen),
    cash_withdrawable_fen: num(raw.cash_withdrawable_fen),
    fees_fen: num(raw.fees_fen),
    trades: (raw.trades as Statement["trades"] | undefined) ?? {},
    holdings: (raw.holdings as Statement["holdings"] | undefined) ?? {},
  };
}

/** ``rows`` with ``one`` in its day's place (a day's statement replaces an earlier copy), by
 * day. */
function withStatement(rows: Statement[], one: Statement): Statement[] {
  return [...rows.filter((r) => r.trading_day !== one.trading_day), one].sort((a, b) =>
    a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0,
  );
}

const RETRY_MS = 3000;

export function Statements({ api, feed, accountId }: { api: Api; feed: Feed; accountId: string }) {
  // undefined: loading; oldest first, as the server answers them.
  const [rows, setRows] = useState<Statement[] | undefined>(undefined);
  // The day shown: null follows the latest (a new day's statement then shows at once).
  const [picked, setPicked] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    let retry = 0;
    // A failed read is tried again shortly: the feed may be back before the REST reads are.
    const load = (): Promise<void> =>
      api.get<{ statements: Record<string, unknown>[] }>(api.m(`/accounts/${encodeURIComponent(accountId)}/statements`)).then(
        (read) => {
          if (!live) return;
          setFailure(null);
          setRows(read.statements.map(statementOf));
        },
        (error) => {
          if (!live) return;
          setFailure(error);
          window.clearTimeout(retry);
          retry = window.setTimeout(() => void load(), RETRY_MS);
        },
      );
    void load();
    const stop = feed.listen((message: Message) => {
      if (message.type !== "statement") return;
      const one = statementOf(message);
      setRows((current) => withStatement(current ?? [], one));
    });
    feed.subscribe("statements");
    const stopReconnect = feed.onReconnect(() => void load());
    return () => {
      live = false;
      window.clearTimeout(retry);
      stop();
      stopReconnect();
      feed.unsubscribe("statements");
    };
  }, [api, accountId]);

  const days = [...(rows ?? [])].reverse(); // newest first in the picker
  const shown = days.find((r) => r.trading_day === picked) ?? days[0] ?? null;
  const picker =
    days.length > 0 ? (
      <select
        aria-label={t("statements.day")}
        data-testid="statement-day"
        value={shown?.trading_day ?? ""}
        onChange={(e) => {
          const day = (e.target as HTMLSelectElement).value;
          setPicked(day === days[0].trading_day ? null : day);
        }}
      >
        {days.map((r) => (
          <option key={r.trading_day} value={r.trading_day}>
            {date(r.trading_day)}
          </option>
        ))}
      </select>
    ) : undefined;
  const traded = shown ? Object.entries(shown.trades).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
  const held = shown ? Object.entries(shown.holdings).sort(([a], [b]) => (a < b ? -1 : 1)) : [];

  return (
    <Panel name="statements" title={t("statements.title")} extra={picker}>
      {failure !== null && (
        <p class="error" role="alert">
          {explain(failure)}
        </p>
      )}
      {rows === undefined && failure === null && <p class="muted small">{t("app.loading")}</p>}
      {rows !== undefined && shown === null && (
        <p class="muted small" data-testid="statements-none">
          {t("statements.none")}
        </p>
      )}
      {shown && (
        <div data-testid="statement" data-day={shown.trading_day}>
          <p class="small" data-testid="statement-title">
            {t("statements.of", { day: date(shown.trading_day) })}
          </p>
          <dl class="facts">
            <dt>{t("account.cashAvailable")}</dt>
            <dd data-testid="st-cash-available">{money(shown.cash_available_fen)}</dd>
            <dt>{t("account.cashHeld")}</dt>
            <dd data-testid="st-cash-held">{money(shown.cash_held_fen)}</dd>
            <dt>{t("account.cashWithdrawable")}</dt>
            <dd data-testid="st-cash-withdrawable">{money(shown.cash_withdrawable_fen)}</dd>
            <dt>{t("statements.fees")}</dt>
            <dd data-testid="st-fees">{money(shown.fees_fen)}</dd>
          </dl>
          <h3>{t("statements.trades")}</h3>
          {traded.length === 0 ? (
            <p class="muted small">{t("statements.noTrades")}</p>
          ) : (
            <table class="statement-table" data-testid="st-trades">
              <thead>
                <tr>
                  <th scope="col">
                    <span class="sr-only">{t("statements.side")}</span>
                  </th>
                  <th scope="col" class="num">
                    {t("statements.qty")}
                  </th>
                  <th scope="col" class="num">
                    {t("statements.amount")}
                  </th>
                </tr>
              </thead>
              {traded.map(([symbol, day]) => (
                <tbody key={symbol} data-testid="st-trade" data-symbol={symbol}>
                  <tr>
                    <th colSpan={3} scope="rowgroup" class="unit-name">
                      {unitLabel(symbol)}
                    </th>
                  </tr>
                  <tr>
                    <th scope="row">{t("statements.bought")}</th>
                    <td class="num" data-testid="st-bought-t">
                      {tonnes(day.bought_t)}
                    </td>
                    <td class="num" data-testid="st-bought-fen">
                      {money(day.bought_fen)}
                    </td>
                  </tr>
                  <tr>
                    <th scope="row">{t("statements.sold")}</th>
                    <td class="num" data-testid="st-sold-t">
                      {tonnes(day.sold_t)}
                    </td>
                    <td class="num" data-testid="st-sold-fen">
                      {money(day.sold_fen)}
                    </td>
                  </tr>
                </tbody>
              ))}
            </table>
          )}
          <h3>{t("statements.holdings")}</h3>
          {held.length === 0 ? (
            <p class="muted small">{t("account.noHoldings")}</p>
          ) : (
            <table class="holdings" data-testid="st-holdings">
              <thead>
                <tr>
                  {STATES.map(([state, key]) => (
                    <th key={state} scope="col" class="num">
                      {t(key)}
                    </th>
                  ))}
                </tr>
              </thead>
              {held.map(([unit, states]) => (
                <tbody key={unit} data-testid="st-holding" data-unit={unit}>
                  <tr>
                    <th colSpan={STATES.length} scope="rowgroup" class="unit-name">
                      {unitLabel(unit)}
                    </th>
                  </tr>
                  <tr>
                    {STATES.map(([state]) => (
                      <td key={state} class="num" data-testid={`st-${state}`}>
                        {integer(states[state] ?? 0)}
                      </td>
                    ))}
                  </tr>
                </tbody>
              ))}
            </table>
          )}
          <p class="muted small">{t("account.inTonnes")}</p>
        </div>
      )}
    </Panel>
  );
}
