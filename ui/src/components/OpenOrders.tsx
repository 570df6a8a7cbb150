// The account's open orders, with cancel, and amend (new price and/or total quantity).
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { integer, parsePriceFen, parseTonnes, price, priceInput, t } from "../i18n";
import type { Order } from "../market";
import { explain } from "../problems";
import { Panel } from "./Panel";

export function OpenOrders(props: { api: Api; orders: Order[]; onDone: () => void }) {
  const [editing, setEditing] = useState<number | null>(null);
  const [priceText, setPriceText] = useState("");
  const [qtyText, setQtyText] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const { api } = props;

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

  function saveEdit(order: Order) {
    const body: Record<string, number> = {};
    const newPrice = parsePriceFen(priceText);
    const newQty = parseTonnes(qtyText);
    if (newPrice !== null && newPrice !== order.price_fen) body.price_fen = newPrice;
    if (newQty !== null && newQty !== order.submitted_t) body.qty_t = newQty;
    if (newPrice === null || newQty === null) {
      setMessage(t("orders.badAmend"));
      return;
    }
    void act(() => api.patch(api.m(`/orders/${order.order_id}`), body));
  }

  const cancelAll = (
    <button
      type="button"
      class="small danger"
      disabled={props.orders.length === 0}
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
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>{t("orders.id")}</th>
              <th>{t("orders.symbol")}</th>
              <th>{t("orders.side")}</th>
              <th class="num">{t("orders.price")}</th>
              <th class="num">{t("orders.qty")}</th>
              <th class="num">{t("orders.filled")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.orders.length === 0 && (
              <tr>
                <td colSpan={7} class="muted empty">
                  {t("orders.empty")}
                </td>
              </tr>
            )}
            {props.orders.map((order) =>
              editing === order.order_id ? (
                <tr key={order.order_id} data-testid="open-order" data-order-id={order.order_id}>
                  <td>{order.order_id}</td>
                  <td>{order.symbol}</td>
                  <td class={order.side}>{t(`enum.${order.side}`)}</td>
                  <td class="num">
                    <input
                      class="tiny"
                      aria-label={t("orders.newPrice")}
                      name="amend-price"
                      value={priceText}
                      onInput={(e) => setPriceText((e.target as HTMLInputElement).value)}
                    />
                  </td>
                  <td class="num">
                    <input
                      class="tiny"
                      aria-label={t("orders.newQty")}
                      name="amend-qty"
                      value={qtyText}
                      onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
                    />
                  </td>
                  <td class="num">{integer(order.filled_t)}</td>
                  <td class="actions">
                    <button type="button" class="small" onClick={() => saveEdit(order)}>
                      {t("orders.save")}
                    </button>
                    <button type="button" class="small link" onClick={() => setEditing(null)}>
                      {t("orders.back")}
                    </button>
                  </td>
                </tr>
              ) : (
                <tr key={order.order_id} data-testid="open-order" data-order-id={order.order_id}>
                  <td>{order.order_id}</td>
                  <td>{order.symbol}</td>
                  <td class={order.side}>
                    {t(`enum.${order.side}`)} · {t(`enum.${order.order_type}`)}
                  </td>
                  <td class="num">{order.price_fen === null ? t("value.none") : price(order.price_fen)}</td>
                  <td class="num">{integer(order.submitted_t)}</td>
                  <td class="num">{integer(order.filled_t)}</td>
                  <td class="actions">
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
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
