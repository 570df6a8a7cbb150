// The L2 ladder: asks above (best ask nearest the middle), bids below, the band and reference
// price on top. Clicking a level puts its price into the order ticket.
import { integer, price, t } from "../i18n";
import type { Book, Level } from "../market";
import { Panel } from "./Panel";

export const LADDER_LEVELS = 5;

export function Ladder(props: {
  book: Book | null;
  bids: Level[];
  asks: Level[];
  onPick: (priceFen: number) => void;
}) {
  const { book, onPick } = props;
  const asks = props.asks.slice(0, LADDER_LEVELS).reverse();
  const bids = props.bids.slice(0, LADDER_LEVELS);
  const largest = Math.max(1, ...asks.map((l) => l.qty_t), ...bids.map((l) => l.qty_t));
  const spread = props.asks.length && props.bids.length ? props.asks[0].price_fen - props.bids[0].price_fen : null;
  const row = (level: Level, side: "bid" | "ask") => (
    <tr
      key={`${side}${level.price_fen}`}
      class={`level ${side}`}
      data-testid={`${side}-level`}
      title={t("ladder.pick")}
      onClick={() => onPick(level.price_fen)}
    >
      <td class="num price">{price(level.price_fen)}</td>
      <td class="num depth">
        <span class="bar" style={{ width: `${(100 * level.qty_t) / largest}%` }} />
        <span class="qty">{integer(level.qty_t)}</span>
      </td>
      <td class="num">{integer(level.order_count)}</td>
    </tr>
  );
  return (
    <Panel name="ladder" title={t("ladder.title")}>
      {book && (
        <p class="muted small" data-testid="band">
          {t("ladder.band", {
            band_lower_fen: book.band_lower_fen,
            band_upper_fen: book.band_upper_fen,
            reference_price_fen: book.reference_price_fen,
          })}
        </p>
      )}
      <table class="ladder">
        <thead>
          <tr>
            <th class="num">{t("ladder.price")}</th>
            <th class="num">{t("ladder.qty")}</th>
            <th class="num">{t("ladder.orders")}</th>
          </tr>
        </thead>
        <tbody>
          {asks.length === 0 && (
            <tr>
              <td colSpan={3} class="muted empty">
                {t("ladder.noAsks")}
              </td>
            </tr>
          )}
          {asks.map((l) => row(l, "ask"))}
          <tr class="spread">
            <td colSpan={3} class="muted small">
              {spread === null ? t("ladder.noSpread") : t("ladder.spread", { spread_fen: spread })}
            </td>
          </tr>
          {bids.map((l) => row(l, "bid"))}
          {bids.length === 0 && (
            <tr>
              <td colSpan={3} class="muted empty">
                {t("ladder.noBids")}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </Panel>
  );
}
