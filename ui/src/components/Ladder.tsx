// The L2 ladder: asks above (best ask nearest the middle), bids below, the band and reference
// price on top. Clicking a level, or Enter on its price (Tab or the arrow keys move between the
// levels), puts its price into the order ticket and, for a trading account, shows the quotes
// resting there to take one (point-select, 摘牌: QuotePicker).
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { integer, price, t } from "../i18n";
import type { Book, Level } from "../market";
import { Panel } from "./Panel";
import { type PickedLevel, QuotePicker } from "./QuotePicker";

export const LADDER_LEVELS = 5;

/** Up and down arrows move the focus between the ladder's prices. */
function moveFocus(event: KeyboardEvent): void {
  if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
  const picks = [...(event.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>("button.pick")];
  const at = picks.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0) return;
  const next = picks[at + (event.key === "ArrowUp" ? -1 : 1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

export function Ladder(props: {
  name: string | null;
  book: Book | null;
  bids: Level[];
  asks: Level[];
  onPick: (priceFen: number) => void;
  api?: Api; // a trading account's: its levels can be taken
  onTaken?: () => void;
}) {
  const { book } = props;
  const [picked, setPicked] = useState<number | null>(null);
  const [level, setLevel] = useState<PickedLevel | null>(null);
  const asks = props.asks.slice(0, LADDER_LEVELS).reverse();
  const bids = props.bids.slice(0, LADDER_LEVELS);
  const largest = Math.max(1, ...asks.map((l) => l.qty_t), ...bids.map((l) => l.qty_t));
  const spread = props.asks.length && props.bids.length ? props.asks[0].price_fen - props.bids[0].price_fen : null;
  const pick = (priceFen: number, side: "bid" | "ask") => {
    setPicked(priceFen);
    setLevel((c) => ({ side, priceFen, n: (c?.n ?? 0) + 1 }));
    props.onPick(priceFen);
  };
  const take = props.api !== undefined && book !== null;
  const row = (level: Level, side: "bid" | "ask") => (
    <tr
      key={`${side}${level.price_fen}`}
      class={`level ${side}${props.api && level.price_fen === picked ? " picked" : ""}`}
      data-testid={`${side}-level`}
      title={t(take ? "ladder.pickTake" : "ladder.pick")}
      onClick={() => pick(level.price_fen, side)}
    >
      <td class="num price">
        <button
          type="button"
          class="pick"
          aria-label={t(`ladder.${take ? "takeLevel" : "pickLevel"}.${side}`, {
            price_fen: level.price_fen,
            qty_t: level.qty_t,
          })}
        >
          {price(level.price_fen)}
        </button>
      </td>
      <td class="num depth">
        <span class="bar" style={{ width: `${(100 * level.qty_t) / largest}%` }} />
        <span class="qty">{integer(level.qty_t)}</span>
      </td>
      <td class="num">{integer(level.order_count)}</td>
    </tr>
  );
  const title = props.name ? t("ladder.titleOf", { name: props.name }) : t("ladder.title");
  return (
    <Panel name="ladder" title={title}>
      {book && (
        <p class="muted small" data-testid="band">
          {t("ladder.band", {
            band_lower_fen: book.band_lower_fen,
            band_upper_fen: book.band_upper_fen,
            reference_price_fen: book.reference_price_fen,
          })}
        </p>
      )}
      <table class="ladder" onKeyDown={moveFocus}>
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
      {take && level && book && (
        <QuotePicker
          api={props.api!}
          symbol={book.symbol}
          level={level}
          version={(level.side === "ask" ? props.asks : props.bids).find((l) => l.price_fen === level.priceFen)?.qty_t ?? 0}
          onClose={() => setLevel(null)}
          onTaken={() => props.onTaken?.()}
        />
      )}
      <p class="sr-only" role="status" data-testid="ladder-picked">
        {picked === null ? "" : t("ladder.picked", { price_fen: picked })}
      </p>
    </Panel>
  );
}
