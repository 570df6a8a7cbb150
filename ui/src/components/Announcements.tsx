// The instructor's announcements (news, shocks, phase changes), newest first; a warning stands
// out. New ones arrive on the `announcements` channel (Trade.tsx).
import { clockTime, t } from "../i18n";
import { Panel } from "./Panel";

export interface Announcement {
  id: string | number;
  text: string;
  at?: string;
  ts_ns?: number; // market time it was posted
  level?: string; // info | warning
}

export function Announcements({ items, timeZone }: { items: Announcement[]; timeZone?: string }) {
  return (
    <Panel name="news" title={t("news.title")}>
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
              {item.text}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
