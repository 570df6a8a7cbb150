// Post an announcement to the class (news, a shock, a reminder of the deadline) and see what
// was posted, newest first (an observer sees the list only). Trainees see each one at once on
// the `announcements` channel.
// API: postAnnouncement, listAnnouncements.
import { useEffect, useState } from "preact/hooks";
import { type Api, optional } from "../../api";
import { Panel } from "../../components/Panel";
import { clockTime, t } from "../../i18n";
import type { Feed } from "../../ws";
import { type AnnouncementRow, type Loose, announcementsOf, classPaths } from "./classApi";
import { Field, OutcomeLine, useAction, word } from "./common";

const TEXT_MAX = 2000; // the contract's limit on one announcement
const LIST_LIMIT = 50;
const LEVELS = ["info", "warning"] as const;

export function AnnouncePanel({ api, feed, timeZone, readOnly = false }: { api: Api; feed: Feed; timeZone: string; readOnly?: boolean }) {
  const [items, setItems] = useState<AnnouncementRow[] | null>(null);
  const [text, setText] = useState("");
  const [level, setLevel] = useState<(typeof LEVELS)[number]>("info");
  const [outcome, run] = useAction();

  async function load() {
    const raw = await optional(api.get<Loose | Loose[]>(`${classPaths.announcements(api)}?limit=${LIST_LIMIT}`));
    setItems(raw ? announcementsOf(raw) : null);
  }

  useEffect(() => {
    void load().catch(() => setItems(null));
    const stop = feed.listen((message) => {
      if (message.type !== "announcement") return;
      const [item] = announcementsOf([message as unknown as Loose]);
      setItems((current) => (current?.some((x) => x.id === item.id) ? current : [item, ...(current ?? [])]));
    });
    feed.subscribe("announcements");
    const stopReconnect = feed.onReconnect(() => void load().catch(() => undefined));
    return () => {
      stop();
      stopReconnect();
    };
  }, [api]);

  const trimmed = text.trim();
  async function post(event: Event) {
    event.preventDefault();
    const posted = await run(async () => {
      await api.post(classPaths.announcements(api), { text: trimmed, level });
      await load();
      return t("announce.posted");
    });
    if (posted) setText("");
  }

  return (
    <Panel name="announce" title={t("announce.title")}>
      {!readOnly && (
        <form class="stack" onSubmit={post} data-testid="announce-form">
          <Field label={t("announce.text")} wide>
            <textarea
              name="announcement"
              rows={3}
              maxLength={TEXT_MAX}
              value={text}
              onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
            />
          </Field>
          <div class="row">
            <Field label={t("announce.level")}>
              <select name="level" value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value as (typeof LEVELS)[number])}>
                {LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {word("announce.levelName", l)}
                  </option>
                ))}
              </select>
            </Field>
            <span class="muted small grow">{t("announce.chars", { n: trimmed.length, max: TEXT_MAX })}</span>
            <button type="submit" class="primary" data-testid="announce-post" disabled={!trimmed || trimmed.length > TEXT_MAX}>
              {t("announce.post")}
            </button>
          </div>
        </form>
      )}
      <OutcomeLine outcome={outcome} testId="announce-message" />
      {items === null ? null : items.length === 0 ? (
        <p class="muted small">{t("news.empty")}</p>
      ) : (
        <ul class="news" data-testid="announcement-list">
          {items.map((item) => (
            <li key={item.id} class={item.level === "warning" ? "warn-item" : ""} data-testid="announcement">
              {item.ts_ns !== undefined && <span class="muted small">{clockTime(item.ts_ns, timeZone)} </span>}
              {item.level === "warning" && <span class="badge warn-badge">{word("announce.levelName", "warning")} </span>}
              {item.text}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
