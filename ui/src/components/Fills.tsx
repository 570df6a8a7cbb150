// The account's own fills, newest first, each instrument by name.
import { clockTime, integer, money, price, t } from "../i18n";
import type { AccountFill } from "../market";
import { unitName } from "../names";
import { Panel, Scroll } from "./Panel";

export function Fills({ fills, timeZone }: { fills: AccountFill[]; timeZone: string }) {
  return (
    <Panel name="fills" title={t("fills.title")}>
      <Scroll label={t("fills.title")}>
        <table class="fills">
          <thead>
            <tr>
              <th>{t("fills.time")}</th>
              <th>{t("fills.symbolSide")}</th>
              <th class="num">{t("fills.price")}</th>
              <th class="num">{t("fills.qty")}</th>
              <th class="num">{t("fills.fee")}</th>
            </tr>
          </thead>
          <tbody>
            {fills.length === 0 && (
              <tr>
                <td colSpan={5} class="muted empty">
                  {t("fills.empty")}
                </td>
              </tr>
            )}
            {fills.map((fill) => (
              <tr key={`${fill.trade_id}${fill.side}`} data-testid="fill-row">
                <td>{clockTime(fill.ts_ns, timeZone)}</td>
                <td class="name">
                  {unitName(fill.symbol)}
                  <span class={`sub side ${fill.side}`}>{t(`enum.${fill.side}`)}</span>
                </td>
                <td class="num">{price(fill.price_fen)}</td>
                <td class="num">{integer(fill.qty_t)}</td>
                <td class="num">{money(fill.fee_fen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </Panel>
  );
}
