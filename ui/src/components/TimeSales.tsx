// Time and sales: the instrument's latest trades, newest first, timed on the market's clock.
import { clockTime, integer, price, t } from "../i18n";
import type { Trade } from "../market";
import { Panel } from "./Panel";

export const TAPE_ROWS = 30;

export function TimeSales({ trades, timeZone }: { trades: Trade[]; timeZone: string }) {
  return (
    <Panel name="tape" title={t("tape.title")}>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>{t("tape.time")}</th>
              <th class="num">{t("tape.price")}</th>
              <th class="num">{t("tape.qty")}</th>
            </tr>
          </thead>
          <tbody>
            {trades.length === 0 && (
              <tr>
                <td colSpan={3} class="muted empty">
                  {t("tape.empty")}
                </td>
              </tr>
            )}
            {trades.slice(0, TAPE_ROWS).map((trade) => (
              <tr key={trade.trade_id} class={trade.aggressor} data-testid="tape-row" title={t(`tape.aggressor.${trade.aggressor}`)}>
                <td>{clockTime(trade.ts_ns, timeZone)}</td>
                <td class="num price">{price(trade.price_fen)}</td>
                <td class="num">{integer(trade.qty_t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
