// Auctions for the instructor: publish a notice (a seller's volume of an instrument, a reserve
// price or the rule set's, a window of today's market time), watch each open auction's bids
// come in (the tonnes bid, the bidders, the cover ratio), close it once its window has shut,
// and read the results with their revenue. API: publishAuction, listAuctions, closeAuction,
// listAuctionResults; the clock (getClock) gives today's date and the market's UTC offset.
import { useState } from "preact/hooks";
import type { Api } from "../../api";
import { AuctionResults, type AuctionNotice, type AuctionResult, windowText } from "../../components/Auctions";
import { Panel, Scroll } from "../../components/Panel";
import { integer, parsePriceFen, parseTonnes, price, t, tonnes } from "../../i18n";
import { unitName } from "../../names";
import { explain } from "../../problems";
import { loadMarketInfo } from "../marketInfo";
import { Field, OutcomeLine, useAction, usePoll } from "./common";

const POLL_MS = 3000;

/** Market time (ns) of "HH:MM" on the clock's day, at the clock's UTC offset: the clock's
 * ``now`` is "2026-03-02T10:15:00+08:00". */
export function marketNs(clockNow: string, hhmm: string): number | null {
  if (!/^\d{2}:\d{2}$/.test(hhmm)) return null;
  const day = clockNow.slice(0, 10);
  const offset = clockNow.slice(19) || "Z";
  const ms = Date.parse(`${day}T${hhmm}:00${offset}`);
  return Number.isNaN(ms) ? null : ms * 1_000_000;
}

export function AuctionAdmin({ api, marketId, timeZone }: { api: Api; marketId: string; timeZone: string }) {
  const [notices, setNotices] = useState<AuctionNotice[] | null>(null);
  const [offered, setOffered] = useState(true);
  const [sales, setSales] = useState<AuctionNotice["sale"][]>(["auction"]);
  const [results, setResults] = useState<AuctionResult[]>([]);
  const [symbols, setSymbols] = useState<string[]>([]);
  const [seller, setSeller] = useState("");
  const [symbol, setSymbol] = useState("");
  const [volume, setVolume] = useState("");
  const [reserve, setReserve] = useState("");
  const [sale, setSale] = useState<AuctionNotice["sale"]>("auction");
  const [opens, setOpens] = useState("10:00");
  const [closes, setCloses] = useState("11:30");
  const [outcome, run, setOutcome] = useAction();

  async function load() {
    const [board, done] = await Promise.all([
      api.get<{ offered: boolean; sales: AuctionNotice["sale"][]; auctions: AuctionNotice[] }>(api.m("/auctions")),
      api.get<{ results: AuctionResult[] }>(api.m("/auctions/results")),
    ]);
    setOffered(board.offered);
    setSales(board.sales);
    setNotices(board.auctions);
    setResults(done.results);
    if (!symbols.length) {
      const info = await loadMarketInfo(api, marketId, null);
      const listed = info.instruments.map((i) => i.symbol).filter((s) => s.startsWith("CEA"));
      setSymbols(listed);
      if (!symbol && listed.length) setSymbol(listed[listed.length - 1]);
    }
  }
  usePoll(() => load().catch((error) => setOutcome({ ok: false, text: explain(error) })), POLL_MS, [api]);

  function publish(event: Event) {
    event.preventDefault();
    void run(async () => {
      const clock = await api.get<{ now: string }>(api.m("/clock"));
      const body: Record<string, unknown> = {
        seller: seller.trim(),
        symbol,
        volume_t: parseTonnes(volume),
        opens_ns: marketNs(clock.now, opens),
        closes_ns: marketNs(clock.now, closes),
      };
      const reserveFen = reserve.trim() ? parsePriceFen(reserve) : null;
      if (reserveFen !== null) body.reserve_fen = reserveFen;
      if (sale !== "auction") body.sale = sale;
      const reply = await api.post<{ auction: AuctionNotice }>(api.m("/auctions"), body);
      await load();
      const a = reply.auction;
      return t("auction.published", {
        auction_id: a.auction_id,
        volume_t: a.volume_t,
        reserve: a.reserve_fen === null ? t("auction.noReserve") : price(a.reserve_fen),
      });
    });
  }

  function close(notice: AuctionNotice) {
    return run(async () => {
      const result = await api.post<AuctionResult>(api.m(`/auctions/${notice.auction_id}/close`), {});
      await load();
      return result.status === "cleared"
        ? t("auction.cleared", { auction_id: result.auction_id, sold_t: result.sold_t, price: price(result.price_fen ?? 0) })
        : t("auction.cancelledShort", { auction_id: result.auction_id, reason: t(`auction.reason.${result.reason ?? "other"}`) });
    });
  }

  if (!offered) return null;
  return (
    <Panel name="auction-admin" title={t("auction.title")}>
      <form class="console-form" onSubmit={publish} data-testid="auction-publish">
        <Field label={t("auction.seller")}>
          <input name="auction-seller" autoComplete="off" value={seller} placeholder="GOV" onInput={(e) => setSeller((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("trade.instrument")}>
          <select name="auction-symbol" value={symbol} onChange={(e) => setSymbol((e.target as HTMLSelectElement).value)}>
            {symbols.map((s) => (
              <option key={s} value={s}>
                {unitName(s)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("auction.volume")}>
          <input name="auction-volume" inputMode="numeric" value={volume} onInput={(e) => setVolume((e.target as HTMLInputElement).value)} />
        </Field>
        {sales.length > 1 && (
          <Field label={t("auction.saleKind")}>
            <select name="auction-sale" value={sale} onChange={(e) => setSale((e.target as HTMLSelectElement).value as AuctionNotice["sale"])}>
              {sales.map((kind) => (
                <option key={kind} value={kind}>
                  {t(`auction.saleOption.${kind}`)}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label={t("auction.reserveOptional")}>
          <input name="auction-reserve" inputMode="decimal" value={reserve} onInput={(e) => setReserve((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("auction.opens")}>
          <input name="auction-opens" type="time" value={opens} onInput={(e) => setOpens((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("auction.closes")}>
          <input name="auction-closes" type="time" value={closes} onInput={(e) => setCloses((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="submit" class="primary" data-testid="auction-publish-submit">
          {t("auction.publish")}
        </button>
      </form>
      <OutcomeLine outcome={outcome} testId="auction-admin-message" />
      {notices && notices.length > 0 && (
        <Scroll label={t("auction.openAuctions")} across>
          <table class="small" data-testid="auction-open">
            <caption>{t("auction.openAuctions")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("auction.auction")}</th>
                <th scope="col">{t("auction.window")}</th>
                <th scope="col">{t("auction.reserve")}</th>
                <th scope="col">{t("auction.bidSoFar")}</th>
                <th scope="col">{t("auction.cover")}</th>
                <th scope="col">
                  <span class="sr-only">{t("auction.close")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {notices.map((n) => (
                <tr key={n.auction_id} data-testid="auction-open-row" data-auction={n.auction_id}>
                  <td>
                    {n.auction_id} · {unitName(n.symbol)} · {tonnes(n.volume_t)}
                  </td>
                  <td>
                    {windowText(n, timeZone)} {n.open_now && <span class="badge session open">{t("auction.live")}</span>}
                  </td>
                  <td class="num">{n.reserve_fen === null ? t("auction.noReserve") : price(n.reserve_fen)}</td>
                  <td class="num" data-testid="auction-bid-t">
                    {integer(n.bid_t ?? 0)} ({n.bidders ?? 0})
                  </td>
                  <td class="num" data-testid="auction-cover">
                    {((n.cover_bp ?? 0) / 10_000).toFixed(2)}×
                  </td>
                  <td>
                    <button type="button" class="small" data-testid="auction-close" onClick={() => void close(n)}>
                      {t("auction.close")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
      <AuctionResults results={results} all />
    </Panel>
  );
}
