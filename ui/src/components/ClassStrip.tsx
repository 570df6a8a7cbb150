// The class strip of the trainee screen: the compliance phase, the clock (not started,
// running at its speed, paused, stopped), "trading day n of N" and what comes next; and a banner
// while surrender is open, with its deadline in class trading days (docs/classroom.md).
import { t } from "../i18n";
import type { MyClass } from "../classroom";
import "./classroom.css";

function phaseName(phase: string): string {
  return t(`phase.name.${phase}`);
}

function clockText(view: MyClass): string {
  const { clock } = view;
  if (clock.state === "running" && clock.speed !== null && clock.speed !== 1)
    return t("class.clock.runningSpeed", { speed: String(clock.speed) });
  return t(`class.clock.${clock.state}`);
}

function dayText(view: MyClass): string {
  const { day_number: day, days_in_year: days } = view;
  if (day === 0) return t("class.dayNone", { days });
  if (day > days) return t("class.dayAfter", { day, days });
  return t("class.day", { day, days });
}

function nextText(view: MyClass): string {
  const { next } = view;
  if (next.kind === "trading_day") return t("class.next.trading_day", { day: next.day_number ?? 0 });
  if (next.kind === "phase") return t("class.next.phase", { phase: phaseName(next.phase ?? "") });
  return t(`class.next.${next.kind}`);
}

export function ClassStrip({ view }: { view: MyClass }) {
  const due = view.deadline_days_left === 0;
  return (
    <>
      <div class={`class-strip clock-${view.clock.state}`} data-testid="class-strip" aria-label={t("class.strip")}>
        <span class="class-phase" data-testid="class-phase" data-phase={view.phase}>
          {t("class.phase", { phase: phaseName(view.phase), year: view.compliance_year })}
        </span>
        <span class="class-clock" data-testid="class-clock" data-state={view.clock.state}>
          {clockText(view)}
        </span>
        <span class="class-day" data-testid="class-day" data-day={view.day_number}>
          {dayText(view)}
        </span>
        <span class="class-next" data-testid="class-next" data-kind={view.next.kind}>
          {t("class.next", { what: nextText(view) })}
        </span>
      </div>
      {view.surrender_open && (
        <div class="class-banner" role="status" data-testid="surrender-banner">
          {due
            ? t("class.surrenderDue", { day: view.deadline_day })
            : t("class.surrenderOpen", { day: view.deadline_day, days: view.deadline_days_left })}
        </div>
      )}
    </>
  );
}
