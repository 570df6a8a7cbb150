// Time and sales: the instrument's latest trades, newest first, timed on the market's clock. The
// side that took the trade (the aggressor) is marked in words and an arrow, not by colour alone.
import { clockTime, integer, price, t } from "../i18n";
import type { Trade } from "../market";
import { Panel, Scroll } from "./Panel";

export const TAPE_ROWS = 30;

export function TimeSales({ trades, timeZone, name }: { trades: Trade[]; timeZone: string; name: string | null }) {
  const title = name ? t("tape.titleOf", { name }) : t("tape.title");
  return (
    <Panel name="tape" title={title}>
      <Scroll label={title}>
        <table>
          <thead>
            <tr>
              <th>{t("tape.time")}</th>
              <th>{t("tape.side")}</th>
              <th class="num">{t("tape.price")}</th>
              <th class="num">{t("tape.qty")}</th>
            </tr>
          </thead>
          <tbody>
            {trades.length === 0 && (
              <tr>
                <td colSpan={4} class="muted empty">
                  {t("tape.empty")}
                </td>
              </tr>
            )}
            {trades.slice(0, TAPE_ROWS).map((trade) => (
              <tr key={trade.trade_id} class={trade.aggressor} data-testid="tape-row" data-aggressor={trade.aggressor}>
                <td>{clockTime(trade.ts_ns, timeZone)}</td>
                <td class="mark" data-testid="tape-mark">
                  <span aria-hidden="true">{t(`tape.mark.${trade.aggressor}`)}</span>
                  <span class="sr-only">{t(`tape.aggressor.${trade.aggressor}`)}</span>
                </td>
                <td class="num price">{price(trade.price_fen)}</td>
                <td class="num">{integer(trade.qty_t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </Panel>
  );
}
