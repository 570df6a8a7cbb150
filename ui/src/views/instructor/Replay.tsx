// Replay the class from its journal: a slider over the journal's timeline (day and session
// events, per-minute trade counts) and the market as it stood after that point: trading day,
// session, each instrument's five best levels a side, the last trades. The server rebuilds
// each view from the journal, not from projections. API: getReplayTimeline, getReplay.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Api, optional } from "../../api";
import { Panel, Scroll } from "../../components/Panel";
import { clockTime, integer, price, t } from "../../i18n";
import type { Level } from "../../market";
import { type Loose, type ReplayView, type TimelineEntry, classPaths, replayOf, timelineOf } from "./classApi";
import { OutcomeLine, useAction, word } from "./common";

const FETCH_DELAY_MS = 150; // while the slider moves, ask only for where it rests

function Side({ levels, side }: { levels: Level[]; side: "bid" | "ask" }) {
  if (levels.length === 0) return <p class="muted small">{side === "bid" ? t("ladder.noBids") : t("ladder.noAsks")}</p>;
  return (
    <table class="mini">
      <tbody>
        {levels.map((l) => (
          <tr key={l.price_fen} class={side} data-testid={`replay-${side}`}>
            <td class="num price">{price(l.price_fen)}</td>
            <td class="num">{integer(l.qty_t)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Replay({ api, timeZone }: { api: Api; timeZone: string }) {
  const [timeline, setTimeline] = useState<{ entries: TimelineEntry[]; lastSeq: number | null } | null | undefined>(undefined);
  const [index, setIndex] = useState(0);
  const [view, setView] = useState<ReplayView | null>(null);
  const [outcome, run] = useAction();
  const timer = useRef(0);

  async function loadTimeline() {
    const raw = await optional(api.get<Loose | Loose[]>(classPaths.timeline(api)));
    const next = raw ? timelineOf(raw) : null;
    setTimeline(next);
    if (next && next.entries.length) setIndex(next.entries.length - 1);
  }

  useEffect(() => {
    void loadTimeline().catch((error) => void run(() => Promise.reject(error)));
  }, [api]);

  const entries = timeline?.entries ?? [];
  const current = entries[Math.min(index, entries.length - 1)];

  useEffect(() => {
    if (!current) return;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => {
      api.get<Loose>(classPaths.replay(api, current.seq)).then(
        (raw) => setView(replayOf(raw)),
        (error) => void run(() => Promise.reject(error)),
      );
    }, FETCH_DELAY_MS);
    return () => window.clearTimeout(timer.current);
  }, [current?.seq, api]);

  if (timeline === null) return null;
  const last = entries.length - 1;

  return (
    <Panel
      name="replay"
      title={t("replay.title")}
      extra={
        <button type="button" class="small" data-testid="replay-reload" onClick={() => void loadTimeline().catch(() => undefined)}>
          {t("replay.reload")}
        </button>
      }
    >
      <OutcomeLine outcome={outcome} testId="replay-message" />
      {entries.length === 0 ? (
        <p class="muted small">{t("replay.empty")}</p>
      ) : (
        <>
          <div class="replay-slider">
            <button type="button" class="small" aria-label={t("replay.previous")} disabled={index <= 0} onClick={() => setIndex(index - 1)}>
              ‹
            </button>
            <input
              type="range"
              data-testid="replay-slider"
              aria-label={t("replay.position")}
              min={0}
              max={last}
              step={1}
              value={Math.min(index, last)}
              onInput={(e) => setIndex(Number((e.target as HTMLInputElement).value))}
            />
            <button type="button" class="small" aria-label={t("replay.next")} disabled={index >= last} onClick={() => setIndex(index + 1)}>
              ›
            </button>
          </div>
          {current && (
            <p class="small" data-testid="replay-at">
              {t("replay.at", {
                seq: current.seq,
                last: timeline?.lastSeq ?? view?.last_seq ?? entries[last].seq,
                time: current.ts_ns ? clockTime(current.ts_ns, timeZone) : t("value.none"),
                what: word("replay.kind", current.kind),
              })}
              {current.count !== undefined && current.kind.includes("trade") ? ` ${t("replay.trades", { n: current.count })}` : ""}
            </p>
          )}
        </>
      )}
      {view && (
        <div data-testid="replay-view" data-seq={view.seq}>
          <dl class="facts">
            <dt>{t("trade.day")}</dt>
            <dd data-testid="replay-day">{view.trading_day ?? t("value.none")}</dd>
            <dt>{t("clock.session")}</dt>
            <dd data-testid="replay-session">{word("enum", view.session)}</dd>
          </dl>
          <div class="replay-books">
            {view.books.map((book) => (
              <section key={book.symbol} class="replay-book" data-testid="replay-book" data-symbol={book.symbol}>
                <h3>
                  {book.symbol} {book.state && <span class={`badge state-${book.state}`}>{word("enum", book.state)}</span>}
                </h3>
                <div class="replay-sides">
                  <div>
                    <h4 class="muted small">{t("replay.asks")}</h4>
                    <Side levels={[...book.asks].sort((a, b) => a.price_fen - b.price_fen)} side="ask" />
                  </div>
                  <div>
                    <h4 class="muted small">{t("replay.bids")}</h4>
                    <Side levels={[...book.bids].sort((a, b) => b.price_fen - a.price_fen)} side="bid" />
                  </div>
                </div>
              </section>
            ))}
          </div>
          <h3>{t("replay.lastTrades")}</h3>
          {view.trades.length === 0 ? (
            <p class="muted small">{t("tape.empty")}</p>
          ) : (
            <Scroll label={t("replay.lastTrades")}>
              <table>
                <thead>
                  <tr>
                    <th>{t("tape.time")}</th>
                    <th>{t("trade.instrument")}</th>
                    <th class="num">{t("tape.price")}</th>
                    <th class="num">{t("tape.qty")}</th>
                  </tr>
                </thead>
                <tbody>
                  {view.trades.map((trade, i) => (
                    <tr key={trade.trade_id ?? i} data-testid="replay-trade">
                      <td>{clockTime(trade.ts_ns, timeZone)}</td>
                      <td>{trade.symbol}</td>
                      <td class="num">{price(trade.price_fen)}</td>
                      <td class="num">{integer(trade.qty_t)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          )}
        </div>
      )}
    </Panel>
  );
}
