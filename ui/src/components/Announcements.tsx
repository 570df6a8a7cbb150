// The instructor's announcements (news, shocks, phase changes), newest first; a warning stands
// out. New ones arrive on the `announcements` channel. What the trainee has not seen yet is
// counted on a badge at the top of the screen, and one that arrives while they trade shows as
// a toast until dismissed; both lead to the panel. An announcement counts as seen once the
// panel has been on screen (or opened from the badge or toast); what was seen is remembered
// per market in this browser.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Api, optional } from "../api";
import { clockTime, t } from "../i18n";
import type { Feed } from "../ws";
import { Panel } from "./Panel";

export interface Announcement {
  id: string | number;
  text: string;
  at?: string;
  ts_ns?: number; // market time it was posted
  level?: string; // info | warning
}

const SEEN_KEPT = 200; // ids remembered per market

function seenKey(marketId: string): string {
  return `carbonx.news.seen.${marketId}`;
}

function loadSeen(marketId: string): Set<string> {
  try {
    const saved = JSON.parse(localStorage.getItem(seenKey(marketId)) ?? "[]") as unknown;
    return new Set(Array.isArray(saved) ? saved.map(String) : []);
  } catch {
    return new Set();
  }
}

export interface News {
  items: Announcement[] | null; // null: the server has no announcements
  unread: Announcement[];
  toast: Announcement | null; // the newest that arrived live and is not yet seen or dismissed
  markSeen: () => void;
  dismissToast: () => void;
}

/** The market's announcements, live, with what the trainee has not seen yet. */
export function useNews(api: Api, feed: Feed, marketId: string): News {
  const [items, setItems] = useState<Announcement[] | null>(null);
  const [seen, setSeen] = useState<Set<string>>(() => loadSeen(marketId));
  const [toastId, setToastId] = useState<string | null>(null);

  useEffect(() => {
    const load = () =>
      optional(api.get<{ announcements: Announcement[] }>(api.m("/announcements")))
        .then((list) => setItems(list ? list.announcements : null))
        .catch(() => undefined);
    void load();
    const stop = feed.listen((message) => {
      if (message.type !== "announcement") return;
      const item = message as unknown as Announcement;
      setItems((current) => (current?.some((x) => x.id === item.id) ? current : [item, ...(current ?? [])]));
      setToastId(String(item.id));
    });
    feed.subscribe("announcements");
    const stopReconnect = feed.onReconnect(() => void load());
    return () => {
      stop();
      stopReconnect();
    };
  }, [api]);

  const unread = useMemo(() => (items ?? []).filter((item) => !seen.has(String(item.id))), [items, seen]);
  const toast = toastId === null ? null : (unread.find((item) => String(item.id) === toastId) ?? null);

  function markSeen() {
    if (!unread.length) return;
    const next = new Set(seen);
    for (const item of unread) next.add(String(item.id));
    localStorage.setItem(seenKey(marketId), JSON.stringify([...next].slice(-SEEN_KEPT)));
    setSeen(next);
  }

  return { items, unread, toast, markSeen, dismissToast: () => setToastId(null) };
}

/** Bring the announcements panel into view and move the focus to it. */
export function showNews(): void {
  const list = document.getElementById("news-list");
  list?.scrollIntoView({ block: "center" });
  list?.focus({ preventScroll: true });
}

/** The unread count at the top of the screen; opens the panel. */
export function NewsBadge({ news }: { news: News }) {
  const count = news.unread.length;
  if (!count) return null;
  return (
    <button
      type="button"
      class="news-badge"
      data-testid="news-badge"
      onClick={() => {
        news.markSeen();
        showNews();
      }}
    >
      {t("news.title")} <span class="count">{count}</span>
      <span class="sr-only">{t("news.unread", { count })}</span>
    </button>
  );
}

/** A toast for an announcement that arrived while the trainee trades: until dismissed or seen. */
export function NewsToast({ news }: { news: News }) {
  const item = news.toast;
  return (
    <div class="toast-region" role="status" aria-live="polite">
      {item && (
        <div class={`toast ${item.level === "warning" ? "warn-toast" : ""}`} data-testid="news-toast">
          <p>
            <b>{item.level === "warning" ? t("news.warning") : t("news.new")}</b> <span data-i18n-exempt>{item.text}</span>
          </p>
          <div class="buttons">
            <button
              type="button"
              class="small primary"
              onClick={() => {
                news.markSeen();
                showNews();
              }}
            >
              {t("news.open")}
            </button>
            <button type="button" class="small" data-testid="news-toast-close" onClick={news.dismissToast}>
              {t("news.dismiss")}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

export function Announcements({ news, timeZone }: { news: News; timeZone?: string }) {
  const list = useRef<HTMLDivElement>(null);
  const items = news.items ?? [];
  // Seen once the panel has been on screen for a moment.
  useEffect(() => {
    if (!list.current || !news.unread.length || typeof IntersectionObserver === "undefined") return;
    let timer = 0;
    const observer = new IntersectionObserver(([entry]) => {
      window.clearTimeout(timer);
      if (entry.isIntersecting) timer = window.setTimeout(news.markSeen, 1500);
    });
    observer.observe(list.current);
    return () => {
      window.clearTimeout(timer);
      observer.disconnect();
    };
  }, [news.unread.length]);
  return (
    <Panel name="news" title={t("news.title")}>
      <div id="news-list" ref={list} tabIndex={-1} class="news-list">
        {items.length === 0 ? (
          <p class="muted small">{t("news.empty")}</p>
        ) : (
          <ul class="news">
            {items.map((item) => (
              <li key={item.id} data-testid="news-item" data-level={item.level ?? "info"} class={item.level === "warning" ? "warn" : ""}>
                {item.ts_ns !== undefined && timeZone ? (
                  <span class="muted small">{clockTime(item.ts_ns, timeZone)} </span>
                ) : (
                  item.at && <span class="muted small">{item.at} </span>
                )}
                {item.level === "warning" && <b>{t("news.warning")} </b>}
                <span data-i18n-exempt>{item.text}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Panel>
  );
}
