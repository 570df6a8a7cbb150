// Auctions (拍卖) on the trainee screen: each auction not yet cleared with its terms (volume,
// reserve price, window, lot, least bid, a bidder's cap, how bids hold cash), one's own bids
// and the cash they hold in all, a sealed-bid form whose checks (the window shut, below the
// reserve, not in lots or below the least bid, over one's cap, more than one's cash) show with
// their numbers and hold the bid back; where bids are revocable, an own bid amended (a new
// price and quantity, checked as a new bid: it takes a new id) or withdrawn in the window; and
// the published results with one's own award. Read over REST on a poll (the window
// opens and shuts with the market's clock) and again at each step on the `auctions` channel.
// Nothing shows where the market holds no auction.
import { useEffect, useState } from "preact/hooks";
import { type Api, ApiProblem } from "../api";
import { clockTime, integer, money, percentBp, price, t, tonnes } from "../i18n";
import type { Balances } from "../market";
import { unitName } from "../names";
import type { Feed } from "../ws";
import { Checks, OutcomeLine, type Say, TermsInputs, missingTerms, useOutcome, useTerms, valueText } from "./blockParts";
import { Panel, Scroll } from "./Panel";
import "./auctions.css";

const POLL_MS = 5000;
const RESULTS_SHOWN = 5;

export interface AuctionBid {
  bid_id: number;
  account_id: string;
  price_fen: number;
  qty_t: number;
  held_fen: number;
}

export interface AuctionNotice {
  auction_id: number;
  seller: string;
  symbol: string;
  sale: "auction" | "reserve" | "ceiling";
  volume_t: number;
  reserve_fen: number | null;
  opens_ns: number;
  closes_ns: number;
  open_now: boolean;
  lot_t: number;
  min_bid_t: number;
  max_share_bp: number | null;
  cap_t: number | null;
  covered_max_share_bp?: number | null;
  collateral: "full" | "guarantee";
  results_lag_days: number;
  bids_revocable: boolean;
  bid_t?: number | null;
  bidders?: number | null;
  cover_bp?: number | null;
  bids: AuctionBid[];
  held_fen?: number | null;
}

export interface AuctionResult {
  auction_id: number;
  symbol: string;
  seller: string;
  published: boolean;
  status: "cleared" | "cancelled";
  reason: string | null;
  price_fen: number | null;
  volume_t: number;
  bid_t: number;
  cover_bp: number;
  sold_t: number;
  unsold_t: number;
  bidders: number;
  winners: number;
  revenue_fen: number;
  awards: { bid_id: number; account_id: string; qty_t: number; price_fen: number }[];
}

export interface Auctions {
  offered: boolean;
  notices: AuctionNotice[];
  results: AuctionResult[];
}

/** The open notices and the results over REST; again on a poll and at each `auctions` step. */
export function useAuctions(api: Api, feed: Feed, failed: (what: string, e: unknown) => void, succeeded: (what: string) => void) {
  const [auctions, setAuctions] = useState<Auctions>({ offered: false, notices: [], results: [] });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const load = () =>
      Promise.all([
        api.get<{ offered: boolean; auctions: AuctionNotice[] }>(api.m("/auctions")),
        api.get<{ results: AuctionResult[] }>(api.m("/auctions/results")),
      ]).then(
        ([board, done]) => {
          if (!live) return;
          succeeded("auctions");
          setAuctions({ offered: board.offered, notices: board.auctions, results: done.results });
        },
        (error) => live && failed("auctions", error),
      );
    void load();
    const timer = window.setInterval(load, POLL_MS);
    const stop = feed.listen((message) => {
      if (message.type === "auction") void load();
    });
    feed.subscribe("auctions");
    const stopReconnect = feed.onReconnect(() => void load());
    return () => {
      live = false;
      window.clearInterval(timer);
      stop();
      stopReconnect();
      feed.unsubscribe("auctions");
    };
  }, [api, tick]);
  return { auctions, reload: () => setTick((n) => n + 1) };
}

/** "10:00–11:30" in the market's time zone. */
export function windowText(notice: AuctionNotice, timeZone: string): string {
  return `${clockTime(notice.opens_ns, timeZone).slice(0, 5)}–${clockTime(notice.closes_ns, timeZone).slice(0, 5)}`;
}

/** What a bidder's bids hold in cash, as the server reckons it: each bid's whole value
 * (``full``), or the most they can cost at one uniform price (``guarantee``). */
export function holdFen(collateral: AuctionNotice["collateral"], bids: { price_fen: number; qty_t: number }[]): number {
  if (collateral !== "guarantee") return bids.reduce((sum, b) => sum + b.price_fen * b.qty_t, 0);
  let most = 0;
  let above = 0;
  for (const b of [...bids].sort((x, y) => y.price_fen - x.price_fen)) {
    above += b.qty_t;
    most = Math.max(most, b.price_fen * above);
  }
  return most;
}

/** The refusals the server would answer a bid with (in place of ``replaced``, when amending),
 * as far as the screen can tell. */
export function checkBid(
  notice: AuctionNotice,
  priceFen: number | null,
  qtyT: number | null,
  cashFen: number | null,
  replaced: AuctionBid | null = null,
): ApiProblem[] {
  const found: ApiProblem[] = [];
  const refuse = (code: string, numbers: Record<string, unknown>) => found.push(new ApiProblem({ status: 409, code, ...numbers }));
  if (!notice.open_now) refuse("AUCTION_WINDOW_CLOSED", { auction_id: notice.auction_id });
  if (priceFen !== null && notice.reserve_fen !== null && priceFen < notice.reserve_fen)
    refuse("AUCTION_BELOW_RESERVE", { price_fen: priceFen, reserve_fen: notice.reserve_fen });
  if (qtyT !== null && (qtyT < notice.min_bid_t || qtyT % notice.lot_t))
    refuse("AUCTION_BID_SIZE", { qty_t: qtyT, min_bid_t: notice.min_bid_t, lot_t: notice.lot_t });
  const others = notice.bids.filter((b) => b.bid_id !== replaced?.bid_id);
  const mine = others.reduce((sum, b) => sum + b.qty_t, 0);
  if (qtyT !== null && notice.cap_t !== null && mine + qtyT > notice.cap_t)
    refuse("AUCTION_OVER_CAP", { qty_t: qtyT, bid_t: mine, cap_t: notice.cap_t, max_share_bp: notice.max_share_bp });
  if (priceFen !== null && qtyT !== null && cashFen !== null) {
    const held = notice.held_fen ?? holdFen(notice.collateral, notice.bids);
    const required = holdFen(notice.collateral, [...others, { price_fen: priceFen, qty_t: qtyT }]) - held;
    if (required > cashFen) refuse("INSUFFICIENT_FUNDS", { required_fen: required, available_fen: cashFen });
  }
  return found;
}

/** Amend an own bid: a new price and quantity, checked as a new bid, in place of ``bid``. */
function AmendForm(props: {
  notice: AuctionNotice;
  bid: AuctionBid;
  cashFen: number | null;
  onSave: (priceFen: number, qtyT: number) => void;
  onBack: () => void;
}) {
  const { notice, bid } = props;
  const terms = useTerms(bid.price_fen, bid.qty_t);
  const [missing, setMissing] = useState<Say | null>(null);
  const checks = checkBid(notice, terms.priceFen, terms.qtyT, props.cashFen, bid);
  const value = valueText(terms.priceFen, terms.qtyT);

  function save(event: Event) {
    event.preventDefault();
    const lacking = missingTerms(terms.priceFen, terms.qtyT);
    setMissing(() => lacking);
    if (lacking || checks.length || terms.priceFen === null || terms.qtyT === null) return;
    props.onSave(terms.priceFen, terms.qtyT);
  }

  return (
    <form class="ticket auction-amend" onSubmit={save} data-testid="auction-amend-form" data-bid={bid.bid_id}>
      <p class="small">
        <strong>{t("auction.amendHeading", { bid_id: bid.bid_id })}</strong>
      </p>
      <TermsInputs terms={terms} name={`auction-bid-${bid.bid_id}`} />
      {value && <p class="small">{value}</p>}
      <p class="muted small">{t("auction.amendNote")}</p>
      <Checks checks={checks} testId="auction-amend-checks" />
      {missing && (
        <p class="error small" role="alert">
          {missing()}
        </p>
      )}
      <div class="buttons">
        <button type="submit" class="primary" data-testid="auction-amend-save">
          {t("auction.amendSave")}
        </button>
        <button type="button" onClick={props.onBack} data-testid="auction-amend-back">
          {t("orders.back")}
        </button>
      </div>
    </form>
  );
}

function NoticeCard(props: { api: Api; notice: AuctionNotice; timeZone: string; balances: Balances | null; onDone: () => void }) {
  const { api, notice } = props;
  const terms = useTerms();
  const [outcome, run, setOutcome] = useOutcome();
  const [editing, setEditing] = useState<number | null>(null);
  const cashFen = props.balances?.cash.available_fen ?? null;
  const checks = checkBid(notice, terms.priceFen, terms.qtyT, cashFen);
  const value = valueText(terms.priceFen, terms.qtyT);
  const amending = notice.bids.find((b) => b.bid_id === editing) ?? null;
  const guarantee = notice.collateral === "guarantee";

  function submit(event: Event) {
    event.preventDefault();
    const missing = missingTerms(terms.priceFen, terms.qtyT);
    if (missing) return setOutcome({ ok: false, text: missing });
    if (checks.length) return setOutcome({ ok: false, text: () => t("auction.notSent") });
    const body = { price_fen: terms.priceFen, qty_t: terms.qtyT };
    void run(async () => {
      const reply = await api.post<{ bid: AuctionBid }>(api.m(`/auctions/${notice.auction_id}/bids`), body);
      terms.reset(null, null);
      props.onDone();
      const bid = reply.bid;
      return () => t("auction.sent", { bid_id: bid.bid_id, qty_t: bid.qty_t, price: price(bid.price_fen), held_fen: bid.held_fen });
    });
  }

  async function amend(old: AuctionBid, priceFen: number, qtyT: number) {
    const done = await run(async () => {
      const reply = await api.put<{ replaced_bid_id: number; bid: AuctionBid }>(api.m(`/auctions/bids/${old.bid_id}`), {
        price_fen: priceFen,
        qty_t: qtyT,
      });
      props.onDone();
      const bid = reply.bid;
      return () => t("auction.amended", { old_id: reply.replaced_bid_id, bid_id: bid.bid_id, qty_t: bid.qty_t, price: price(bid.price_fen) });
    });
    if (done) setEditing(null);
  }

  async function withdraw(bid: AuctionBid) {
    await run(async () => {
      await api.delete(api.m(`/auctions/bids/${bid.bid_id}`));
      props.onDone();
      return () => t("auction.withdrawn", { bid_id: bid.bid_id });
    });
  }

  const share = notice.covered_max_share_bp == null && notice.max_share_bp !== null ? ` (${percentBp(notice.max_share_bp)})` : "";
  return (
    <article class="auction" data-testid="auction" data-auction={notice.auction_id}>
      <h3>
        {t("auction.heading", { auction_id: notice.auction_id })} · {unitName(notice.symbol)}{" "}
        <span class={`badge session ${notice.open_now ? "open" : "shut"}`} data-testid="auction-window" data-open={notice.open_now}>
          {t(notice.open_now ? "auction.openNow" : "auction.shut", { window: windowText(notice, props.timeZone) })}
        </span>
      </h3>
      <dl class="facts small" data-testid="auction-terms">
        {notice.sale !== "auction" && (
          <>
            <dt>{t("auction.saleKind")}</dt>
            <dd data-testid="auction-sale" data-sale={notice.sale}>
              {t(`auction.sale.${notice.sale}`)}
            </dd>
          </>
        )}
        <dt>{t("auction.volume")}</dt>
        <dd>{tonnes(notice.volume_t)}</dd>
        <dt>{t("auction.reserve")}</dt>
        <dd>{notice.reserve_fen === null ? t("auction.noReserve") : price(notice.reserve_fen)}</dd>
        <dt>{t("auction.leastBid")}</dt>
        <dd>{t("auction.lots", { min: tonnes(notice.min_bid_t), lot: tonnes(notice.lot_t) })}</dd>
        <dt>{t("auction.cap")}</dt>
        <dd>{notice.cap_t === null ? t("auction.noCap") : `${tonnes(notice.cap_t)}${share}`}</dd>
        <dt>{t("auction.withdrawals")}</dt>
        <dd>{t(notice.bids_revocable ? "auction.revocable" : "auction.binding")}</dd>
        <dt>{t("auction.collateralRule")}</dt>
        <dd data-testid="auction-collateral" data-collateral={notice.collateral}>
          {t(`auction.collateral.${notice.collateral}`)}
        </dd>
        {notice.held_fen != null && (
          <>
            <dt>{t("auction.heldTotal")}</dt>
            <dd class="num" data-testid="auction-held">
              {money(notice.held_fen)}
            </dd>
          </>
        )}
      </dl>
      {notice.bids.length > 0 && (
        <Scroll label={t("auction.myBids")} across>
          <table class="small" data-testid="auction-my-bids">
            <caption>{t("auction.myBids")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("auction.bidNo")}</th>
                <th scope="col">{t("auction.price")}</th>
                <th scope="col">{t("auction.qty")}</th>
                <th scope="col">{t(guarantee ? "auction.value" : "auction.held")}</th>
                {notice.bids_revocable && (
                  <th scope="col">
                    <span class="sr-only">{t("orders.actions")}</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {notice.bids.map((b) => (
                <tr key={b.bid_id} data-testid="auction-my-bid" data-bid={b.bid_id}>
                  <td class="num">{b.bid_id}</td>
                  <td class="num">{price(b.price_fen)}</td>
                  <td class="num">{integer(b.qty_t)}</td>
                  <td class="num">{money(b.held_fen)}</td>
                  {notice.bids_revocable && (
                    <td>
                      <div class="buttons">
                        <button
                          type="button"
                          class="small"
                          data-testid="auction-amend"
                          disabled={!notice.open_now}
                          onClick={() => {
                            setOutcome(null);
                            setEditing(b.bid_id);
                          }}
                        >
                          {t("auction.amend")}
                          <span class="sr-only"> {t("auction.bidRef", { bid_id: b.bid_id })}</span>
                        </button>
                        <button
                          type="button"
                          class="small"
                          data-testid="auction-withdraw"
                          disabled={!notice.open_now}
                          onClick={() => void withdraw(b)}
                        >
                          {t("auction.withdraw")}
                          <span class="sr-only"> {t("auction.bidRef", { bid_id: b.bid_id })}</span>
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
      {amending && notice.bids_revocable && (
        <AmendForm
          key={amending.bid_id}
          notice={notice}
          bid={amending}
          cashFen={cashFen}
          onSave={(priceFen, qtyT) => void amend(amending, priceFen, qtyT)}
          onBack={() => setEditing(null)}
        />
      )}
      <form class="ticket" onSubmit={submit} data-testid="auction-bid-form">
        <TermsInputs terms={terms} name={`auction-${notice.auction_id}`} />
        {value && <p class="small" data-testid="auction-bid-value">{value}</p>}
        <p class="muted small">{t(guarantee ? "auction.holdsGuarantee" : "auction.holds")}</p>
        <Checks checks={checks} testId="auction-checks" />
        <button type="submit" class="primary buy" data-testid="auction-bid">
          {terms.qtyT !== null && terms.priceFen !== null
            ? t("auction.bidSubmit", { qty: integer(terms.qtyT), price: price(terms.priceFen) })
            : t("auction.bidEmpty")}
        </button>
        <OutcomeLine outcome={outcome} testId="auction-message" />
      </form>
    </article>
  );
}

/** The published results, the latest first, with the caller's own award. */
export function AuctionResults(props: { results: AuctionResult[]; mine?: string | null; all?: boolean }) {
  if (!props.results.length) return null;
  return (
    <Scroll label={t("auction.results")} across>
      <table class="small" data-testid="auction-results">
        <caption>{t("auction.results")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("auction.auction")}</th>
            <th scope="col">{t("auction.price")}</th>
            <th scope="col">{t("auction.sold")}</th>
            <th scope="col">{t("auction.cover")}</th>
            <th scope="col">{t("auction.winners")}</th>
            <th scope="col">{props.all ? t("auction.revenue") : t("auction.myAward")}</th>
          </tr>
        </thead>
        <tbody>
          {props.results.slice(0, RESULTS_SHOWN).map((r) => {
            const won = r.awards.filter((a) => a.account_id === props.mine).reduce((sum, a) => sum + a.qty_t, 0);
            return (
              <tr key={r.auction_id} data-testid="auction-result" data-status={r.status}>
                <td>
                  {r.auction_id} · {unitName(r.symbol)}
                  {r.status === "cancelled" && <span class="badge shut">{t(`auction.reason.${r.reason ?? "other"}`)}</span>}
                  {!r.published && (
                    <span class="badge shut" data-testid="auction-unpublished">
                      {t("auction.unpublished")}
                    </span>
                  )}
                </td>
                <td class="num">{r.price_fen === null ? "—" : price(r.price_fen)}</td>
                <td class="num">
                  {integer(r.sold_t)} / {integer(r.volume_t)}
                </td>
                <td class="num">{(r.cover_bp / 10_000).toFixed(2)}×</td>
                <td class="num">
                  {r.winners} / {r.bidders}
                </td>
                <td class="num" data-testid="auction-award">
                  {props.all ? money(r.revenue_fen) : won ? tonnes(won) : "—"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Scroll>
  );
}

export function AuctionPanel(props: {
  api: Api;
  feed: Feed;
  accountId: string | null;
  timeZone: string;
  balances: Balances | null;
  onDone: () => void;
  failed: (what: string, error: unknown) => void;
  succeeded: (what: string) => void;
}) {
  const { auctions, reload } = useAuctions(props.api, props.feed, props.failed, props.succeeded);
  if (!auctions.offered || (!auctions.notices.length && !auctions.results.length)) return null;
  return (
    <Panel name="auctions" title={t("auction.title")}>
      {auctions.notices.map((notice) => (
        <NoticeCard
          key={notice.auction_id}
          api={props.api}
          notice={notice}
          timeZone={props.timeZone}
          balances={props.balances}
          onDone={() => {
            reload();
            props.onDone();
          }}
        />
      ))}
      {!auctions.notices.length && <p class="muted small">{t("auction.noneOpen")}</p>}
      <AuctionResults results={auctions.results} mine={props.accountId} />
    </Panel>
  );
}
