// The instructor console: tabs for running the class (clock, compliance phase, halt and resume,
// the large-holder reports as they come),
// the live dashboard, announcements, the participants' logins, end-of-year results, replay of
// the journal, and creating a new class market from a scenario; an observer key sees only the
// dashboard and the announcements, without controls. The tab is the path's last part
// (/ui/instructor/dashboard), so a reload keeps it. Each tab is a client of the public API like
// the trainee screen, on the same Ctx (REST client, feed, i18n).
import { useEffect, useState } from "preact/hooks";
import type { Ctx } from "../app";
import { locale, t } from "../i18n";
import type { Session } from "../session";
import { AnnouncePanel } from "./instructor/AnnouncePanel";
import { ClockPanel } from "./instructor/ClockPanel";
import { CreateClass } from "./instructor/CreateClass";
import { Dashboard } from "./instructor/Dashboard";
import { AuctionAdmin } from "./instructor/AuctionAdmin";
import { LargeHolders } from "./instructor/LargeHolders";
import { Logins, rememberSeatKeys } from "./instructor/Logins";
import { MrvConsole } from "./instructor/MrvConsole";
import { PhasePanel } from "./instructor/PhasePanel";
import { Replay } from "./instructor/Replay";
import { Results } from "./instructor/Results";
import { TradingPanel } from "./instructor/TradingPanel";
import type { ClassCreated } from "./instructor/classApi";
import "./instructor/instructor.css";
import { loadMarketInfo } from "./marketInfo";

const TABS = ["control", "dashboard", "mrv", "news", "logins", "results", "replay", "new"] as const;
type Tab = (typeof TABS)[number];
// An observer key reads the dashboard and the announcements only: every control, the logins,
// results and replay are for instructors (the API refuses them to observers too).
const READ_ONLY_TABS: readonly Tab[] = ["dashboard", "news"];
const BASE = "/ui/instructor";

/** Which of a new class's seats are gas-fired (燃气机组), by number. */
function gasSeatsText(created: ClassCreated): string {
  const gas = created.seats.filter((s) => s.gas_fired).map((s) => String(s.seat));
  return gas.length ? t("newclass.gasSeatsMade", { seats: gas.join(locale() === "zh-CN" ? "、" : ", ") }) : t("newclass.noGasSeats");
}

function tabFromPath(tabs: readonly Tab[]): Tab {
  const last = location.pathname.startsWith(BASE + "/") ? location.pathname.slice(BASE.length + 1).split("/")[0] : "";
  return (tabs as readonly string[]).includes(last) ? (last as Tab) : tabs[0];
}

export function Instructor({ ctx, onSession }: { ctx: Ctx; onSession?: (session: Session) => void }) {
  const { api, feed, session } = ctx;
  const readOnly = session.role !== "operator";
  const tabs = readOnly ? READ_ONLY_TABS : TABS;
  const [tab, setTab] = useState<Tab>(() => tabFromPath(tabs));
  const [timeZone, setTimeZone] = useState<string>(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [created, setCreated] = useState<ClassCreated | null>(null);

  useEffect(() => {
    const sync = () => setTab(tabFromPath(tabs));
    window.addEventListener("popstate", sync);
    return () => window.removeEventListener("popstate", sync);
  }, []);

  useEffect(() => {
    loadMarketInfo(api, session.marketId, null).then(
      (info) => setTimeZone(info.timeZone),
      () => undefined,
    );
  }, [api]);

  function open(next: Tab) {
    const path = next === tabs[0] ? BASE : `${BASE}/${next}`;
    if (location.pathname !== path) history.pushState(null, "", path);
    setTab(next);
  }

  /** A new class market: keep its seats' keys for the logins tab, then work in it. */
  function created_(reply: ClassCreated) {
    rememberSeatKeys(reply.market_id, reply.seats);
    setCreated(reply);
  }

  function switchTo(reply: ClassCreated) {
    onSession?.({ marketId: reply.market_id, key: reply.operator_key, role: "operator", accountId: null, ruleSet: session.ruleSet });
    setCreated(null);
    open("control");
  }

  return (
    <div class={readOnly ? "instructor read-only" : "instructor"} data-testid="instructor-view">
      {readOnly && (
        <p class="muted small" data-testid="read-only-note">
          {t("console.readOnly")}
        </p>
      )}
      <nav class="tabs no-print" role="tablist" aria-label={t("console.title")}>
        {tabs.map((name) => (
          <button
            type="button"
            role="tab"
            key={name}
            class={name === tab ? "on" : ""}
            aria-selected={name === tab}
            data-testid={`tab-${name}`}
            onClick={() => open(name)}
          >
            {t(`console.tab.${name}`)}
          </button>
        ))}
      </nav>
      {tab === "control" && !readOnly && (
        <div class="console-grid">
          <ClockPanel api={api} />
          <PhasePanel api={api} />
          <TradingPanel api={api} marketId={session.marketId} />
          <AuctionAdmin api={api} marketId={session.marketId} timeZone={timeZone} />
          <LargeHolders api={api} feed={feed} />
        </div>
      )}
      {tab === "dashboard" && <Dashboard api={api} feed={feed} timeZone={timeZone} />}
      {tab === "mrv" && !readOnly && <MrvConsole api={api} />}
      {tab === "news" && <AnnouncePanel api={api} feed={feed} timeZone={timeZone} readOnly={readOnly} />}
      {tab === "logins" && !readOnly && <Logins api={api} marketId={session.marketId} />}
      {tab === "results" && !readOnly && <Results api={api} marketId={session.marketId} />}
      {tab === "replay" && !readOnly && <Replay api={api} timeZone={timeZone} />}
      {tab === "new" && !readOnly && (
        <div class="console-grid">
          <CreateClass api={api} onCreated={created_} />
          {created && (
            <section class="panel created" data-testid="class-created">
              <div class="panel-body">
                <p>
                  {t("newclass.summary", {
                    market_id: created.market_id,
                    scenario: created.scenario,
                    seats: created.seats.length,
                    bots: created.bots.length,
                  })}
                </p>
                <p data-testid="created-gas-seats">
                  {gasSeatsText(created)}
                </p>
                <button type="button" class="primary" data-testid="open-class" onClick={() => switchTo(created)}>
                  {t("newclass.open", { market_id: created.market_id })}
                </button>
              </div>
            </section>
          )}
        </div>
      )}
    </div>
  );
}
