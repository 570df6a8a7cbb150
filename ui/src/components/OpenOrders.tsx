// Today's orders (当日委托), newest first, with their status in the exchange's words: 已报
// (resting), 部成 (partly filled), 已成 (filled), 已撤 (cancelled), 已过期 (expired at the
// close). The open ones (resting or partly filled) keep their amend and cancel actions; an
// amendment (new price and/or total quantity) opens on a row of its own under the order, so
// that it fits a phone.
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { integer, parsePriceFen, parseTonnes, price, priceInput, t } from "../i18n";
import type { Order } from "../market";
import { unitName } from "../names";
import { explain } from "../problems";
import { Panel, Scroll } from "./Panel";

export type OrderState = "new" | "partly" | "filled" | "cancelled" | "expired";

/** What became of an order, as the screen names it: an expiry is a cancellation at the close. */
export function orderState(order: Order): OrderState {
  if (order.status === "cancelled") return order.cancel_reason === "expiry" ? "expired" : "cancelled";
  if (order.status === "filled") return "filled";
  return order.status === "partially_filled" ? "partly" : "new";
}

export function isOpen(order: Order): boolean {
  return order.leaves_t > 0 && (order.status === "new" || order.status === "partially_filled");
}

const COLUMNS = 6;

export function OpenOrders(props: { api: Api; orders: Order[]; onDone: () => void }) {
  const [editing, setEditing] = useState<number | null>(null);
  const [priceText, setPriceText] = useState("");
  const [qtyText, setQtyText] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const { api } = props;
  const orders = [...props.orders].sort((a, b) => b.order_id - a.order_id);
  const open = orders.filter(isOpen);

  async function act(call: () => Promise<unknown>) {
    setMessage(null);
    try {
      await call();
      setEditing(null);
      props.onDone();
    } catch (error) {
      setMessage(explain(error));
    }
  }

  function startEdit(order: Order) {
    setEditing(order.order_id);
    setPriceText(order.price_fen === null ? "" : priceInput(order.price_fen));
    setQtyText(String(order.submitted_t));
  }

  function saveEdit(event: Event, order: Order) {
    event.preventDefault();
    const body: Record<string, number> = {};
    const newPrice = parsePriceFen(priceText);
    const newQty = parseTonnes(qtyText);
    if (newPrice === null || newQty === null) {
      setMessage(t("orders.badAmend"));
      return;
    }
    if (newPrice !== order.price_fen) body.price_fen = newPrice;
    if (newQty !== order.submitted_t) body.qty_t = newQty;
    void act(() => api.patch(api.m(`/orders/${order.order_id}`), body));
  }

  const cancelAll = (
    <button
      type="button"
      class="small danger"
      disabled={open.length === 0}
      onClick={() => act(() => api.delete(api.m("/orders")))}
    >
      {t("orders.cancelAll")}
    </button>
  );
  return (
    <Panel name="orders" title={t("orders.title")} extra={cancelAll}>
      {message && (
        <p class="error" role="alert" data-testid="orders-message">
          {message}
        </p>
      )}
      <Scroll label={t("orders.title")}>
        <table class="orders">
          <thead>
            <tr>
              <th class="c-id">{t("orders.id")}</th>
              <th>{t("orders.symbolSide")}</th>
              <th class="num">{t("orders.price")}</th>
              <th class="num">{t("orders.filledOfQty")}</th>
              <th>{t("orders.status")}</th>
              <th>
                <span class="sr-only">{t("orders.actions")}</span>
              </th>
            </tr>
          </thead>
          {orders.length === 0 && (
            <tbody>
              <tr>
                <td colSpan={COLUMNS} class="muted empty">
                  {t("orders.empty")}
                </td>
              </tr>
            </tbody>
          )}
          {orders.map((order) => {
            const state = orderState(order);
            const live = isOpen(order);
            return (
              <tbody
                key={order.order_id}
                data-testid={live ? "open-order" : "done-order"}
                data-order-id={order.order_id}
                data-state={state}
              >
                <tr>
                  <td class="c-id">{order.order_id}</td>
                  <td class="name">
                    {unitName(order.symbol)}
                    <span class="sub">
                      <span class={`side ${order.side}`}>{t(`enum.${order.side}`)}</span> {t(`enum.${order.order_type}`)}
                    </span>
                  </td>
                  <td class="num">{order.price_fen === null ? t("value.none") : price(order.price_fen)}</td>
                  <td class="num">
                    {integer(order.filled_t)}/{integer(order.submitted_t)}
                  </td>
                  <td>
                    <span class={`status ${state}`} data-testid="order-status">
                      {t(`orders.state.${state}`)}
                    </span>
                  </td>
                  <td class="actions">
                    {live && editing !== order.order_id && (
                      <div class="buttons">
                        <button type="button" class="small" data-testid="amend" onClick={() => startEdit(order)}>
                          {t("orders.amend")}
                        </button>
                        <button
                          type="button"
                          class="small danger"
                          data-testid="cancel"
                          onClick={() => act(() => api.delete(api.m(`/orders/${order.order_id}`)))}
                        >
                          {t("orders.cancel")}
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
                {live && editing === order.order_id && (
                  <tr class="amend-row">
                    <td colSpan={COLUMNS}>
                      <form class="amend" onSubmit={(e) => saveEdit(e, order)}>
                        <label>
                          {t("orders.newPrice")}
                          <input
                            class="tiny"
                            name="amend-price"
                            inputMode="decimal"
                            value={priceText}
                            onInput={(e) => setPriceText((e.target as HTMLInputElement).value)}
                          />
                        </label>
                        <label>
                          {t("orders.newQty")}
                          <input
                            class="tiny"
                            name="amend-qty"
                            inputMode="numeric"
                            value={qtyText}
                            onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
                          />
                        </label>
                        <button type="submit" class="small primary">
                          {t("orders.save")}
                        </button>
                        <button type="button" class="small" onClick={() => setEditing(null)}>
                          {t("orders.back")}
                        </button>
                      </form>
                    </td>
                  </tr>
                )}
              </tbody>
            );
          })}
        </table>
      </Scroll>
    </Panel>
  );
}
