// Cash and holdings by unit type (CEA by vintage, CCER by project) and state. Each holding is
// its name on a line of its own and its quantities by state below, so that every column fits
// the panel on a desk and on a phone.
import { integer, money, t } from "../i18n";
import type { Balances } from "../market";
import { unitName } from "../names";
import { Panel } from "./Panel";

/** A unit's name as the screens show it (names.ts). */
export function unitLabel(code: string): string {
  return unitName(code);
}

export function Account({ balances }: { balances: Balances }) {
  const { cash, holdings } = balances;
  return (
    <Panel name="account" title={t("account.title")}>
      <dl class="facts" data-testid="cash">
        <dt>{t("account.cashAvailable")}</dt>
        <dd data-testid="cash-available">{money(cash.available_fen)}</dd>
        <dt>{t("account.cashHeld")}</dt>
        <dd data-testid="cash-held">{money(cash.held_fen)}</dd>
        <dt>{t("account.cashWithdrawable")}</dt>
        <dd>{money(cash.withdrawable_fen)}</dd>
      </dl>
      <table class="holdings" data-testid="holdings">
        <thead>
          <tr>
            <th class="num">{t("account.available")}</th>
            <th class="num">{t("account.held")}</th>
            <th class="num">{t("account.pending")}</th>
            <th class="num">{t("account.frozen")}</th>
            <th class="num">{t("account.sellable")}</th>
          </tr>
        </thead>
        {holdings.length === 0 && (
          <tbody>
            <tr>
              <td colSpan={5} class="muted empty">
                {t("account.noHoldings")}
              </td>
            </tr>
          </tbody>
        )}
        {holdings.map((h) => (
          <tbody key={h.unit} data-testid="holding" data-unit={h.unit}>
            <tr>
              <th colSpan={5} scope="rowgroup" class="unit-name">
                {unitLabel(h.unit)}
              </th>
            </tr>
            <tr>
              <td class="num" data-testid="holding-available">
                {integer(h.available_t)}
              </td>
              <td class="num" data-testid="holding-held">
                {integer(h.held_t)}
              </td>
              <td class="num">{integer(h.pending_t)}</td>
              <td class="num">{integer(h.frozen_t)}</td>
              <td class="num" data-testid="holding-sellable">
                {integer(h.sellable_t)}
              </td>
            </tr>
          </tbody>
        ))}
      </table>
      <p class="muted small">{t("account.inTonnes")}</p>
    </Panel>
  );
}
