// The account's own fills, newest first.
import { clockTime, integer, money, price, t } from "../i18n";
import type { AccountFill } from "../market";
import { Panel } from "./Panel";

export function Fills({ fills, timeZone }: { fills: AccountFill[]; timeZone: string }) {
  return (
    <Panel name="fills" title={t("fills.title")}>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>{t("fills.time")}</th>
              <th>{t("fills.symbol")}</th>
              <th>{t("fills.side")}</th>
              <th class="num">{t("fills.price")}</th>
              <th class="num">{t("fills.qty")}</th>
              <th class="num">{t("fills.fee")}</th>
            </tr>
          </thead>
          <tbody>
            {fills.length === 0 && (
              <tr>
                <td colSpan={6} class="muted empty">
                  {t("fills.empty")}
                </td>
              </tr>
            )}
            {fills.map((fill) => (
              <tr key={`${fill.trade_id}${fill.side}`} data-testid="fill-row">
                <td>{clockTime(fill.ts_ns, timeZone)}</td>
                <td>{fill.symbol}</td>
                <td class={fill.side}>{t(`enum.${fill.side}`)}</td>
                <td class="num">{price(fill.price_fen)}</td>
                <td class="num">{integer(fill.qty_t)}</td>
                <td class="num">{money(fill.fee_fen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
