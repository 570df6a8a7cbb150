// The class's compliance phase (allocation → trading → verification → surrender → assessment →
// closed or next year) and the step to the next one, confirmed first because it acts on every
// covered entity (emissions recorded, surrender opened, penalties assessed). API: getClassPhase,
// advanceClassPhase.
import { useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel } from "../../components/Panel";
import { date, t } from "../../i18n";
import { type ClassPhase, type Loose, classOptional, classPaths, phaseOf } from "./classApi";
import { ConfirmButton, OutcomeLine, amount, maybeDate, useAction, usePoll, word } from "./common";

const POLL_MS = 4000;

/** What an advance did (``done``: emissions recorded, assessments, penalties, ...) in words;
 * the from/to/year it repeats are shown elsewhere. */
function summaryOf(raw: Loose): string {
  const done = (raw.done as Loose | undefined) ?? {};
  const parts = Object.entries(done)
    .filter(([name]) => !["from", "to", "compliance_year"].includes(name))
    .flatMap(([name, value]) => {
      const what = word("phase.did", name);
      if (typeof value === "number") return [t("phase.count", { what, n: amount(name, value) })];
      if (typeof value === "string") return [t("phase.count", { what, n: maybeDate(value) })];
      return [];
    });
  return parts.join(t("phase.countJoin"));
}

export function PhasePanel({ api, onPhase }: { api: Api; onPhase?: (phase: ClassPhase | null) => void }) {
  const [phase, setPhase] = useState<ClassPhase | null | undefined>(undefined);
  const [outcome, run] = useAction();

  async function load() {
    const raw = await classOptional(api.get<Loose>(classPaths.phase(api)));
    const next = raw ? phaseOf(raw) : null;
    setPhase(next);
    onPhase?.(next);
  }
  usePoll(load, POLL_MS, [api]);

  if (phase === null) return null; // this market is not a class (or the server has no phases)
  const next = phase?.next_phase ?? null;

  return (
    <Panel name="phase" title={t("phase.title")}>
      {phase && (
        <dl class="facts" data-testid="phase-facts">
          <dt>{t("phase.current")}</dt>
          <dd>
            <span class="badge" data-testid="phase" data-phase={phase.phase}>
              {word("phase.name", phase.phase)}
            </span>
          </dd>
          <dt>{t("compliance.year")}</dt>
          <dd>{phase.compliance_year ?? t("value.none")}</dd>
          <dt>{t("compliance.deadline")}</dt>
          <dd>{phase.deadline ? date(phase.deadline) : t("value.none")}</dd>
          <dt>{t("phase.next")}</dt>
          <dd>{next ? word("phase.name", next) : t("value.none")}</dd>
        </dl>
      )}
      {phase && next && (
        <>
          <p class="muted small">{word("phase.means", next)}</p>
          <ConfirmButton
            label={t("phase.advance", { phase: word("phase.name", next) })}
            question={t("phase.confirm", { phase: word("phase.name", next) })}
            testId="phase-advance"
            onConfirm={() =>
              void run(async () => {
                const raw = await api.post<Loose>(classPaths.advance(api), {});
                await load();
                const summary = summaryOf(raw);
                const now = typeof raw.phase === "string" ? raw.phase : next;
                return t("phase.advanced", { phase: word("phase.name", now) }) + (summary ? ` ${summary}` : "");
              })
            }
          />
        </>
      )}
      <OutcomeLine outcome={outcome} testId="phase-message" />
    </Panel>
  );
}
