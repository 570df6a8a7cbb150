// Cash and holdings by unit type (CEA by vintage, CCER by project) and state.
import { integer, money, t } from "../i18n";
import { type Balances, unitParts } from "../market";
import { Panel } from "./Panel";

export function unitLabel(code: string): string {
  const { kind, vintage, project } = unitParts(code);
  if (project !== null) return t("unit.offset", { kind, project, vintage });
  if (vintage) return t("unit.allowance", { kind, vintage });
  return code;
}

export function Account({ balances }: { balances: Balances }) {
  const { cash, holdings } = balances;
  return (
    <Panel name="account" title={t("account.title")}>
      <dl class="facts" data-testid="cash">
        <dt>{t("account.cashAvailable")}</dt>
        <dd data-testid="cash-available">{money(cash.available_fen)}</dd>
        <dt>{t("account.cashHeld")}</dt>
        <dd>{money(cash.held_fen)}</dd>
        <dt>{t("account.cashWithdrawable")}</dt>
        <dd>{money(cash.withdrawable_fen)}</dd>
      </dl>
      <div class="scroll">
        <table data-testid="holdings">
          <thead>
            <tr>
              <th>{t("account.unit")}</th>
              <th class="num">{t("account.available")}</th>
              <th class="num">{t("account.held")}</th>
              <th class="num">{t("account.pending")}</th>
              <th class="num">{t("account.frozen")}</th>
              <th class="num">{t("account.sellable")}</th>
            </tr>
          </thead>
          <tbody>
            {holdings.length === 0 && (
              <tr>
                <td colSpan={6} class="muted empty">
                  {t("account.noHoldings")}
                </td>
              </tr>
            )}
            {holdings.map((h) => (
              <tr key={h.unit} data-testid="holding" data-unit={h.unit}>
                <td>{unitLabel(h.unit)}</td>
                <td class="num" data-testid="holding-available">
                  {integer(h.available_t)}
                </td>
                <td class="num">{integer(h.held_t)}</td>
                <td class="num">{integer(h.pending_t)}</td>
                <td class="num">{integer(h.frozen_t)}</td>
                <td class="num">{integer(h.sellable_t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted small">{t("account.inTonnes")}</p>
    </Panel>
  );
}
