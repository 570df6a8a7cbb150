// The market clock for the instructor: start it (accelerated at a speed, stepped or real time),
// pause, resume, change speed, step a stepped clock, stop it; and step the trading day by hand
// (open the day, open or break the session, close, day-end clearing). API: getClock, startClock,
// pauseClock, resumeClock, setClockSpeed, advanceClock, stopClock, openDay, setSession,
// closeDay, endOfDay (exchange/api/routes/clock.py).
import { useState } from "preact/hooks";
import type { Api } from "../../api";
import { Panel } from "../../components/Panel";
import { t } from "../../i18n";
import { Field, OutcomeLine, useAction, usePoll, word } from "./common";

const POLL_MS = 2000;
const MODES = ["accelerated", "stepped", "realtime"] as const;

export interface ClockState {
  running: boolean;
  mode: string | null;
  speed: number | null;
  paused: boolean;
  now: string;
  timezone: string;
  trading_day: string | null;
  session: string;
  day_closed: boolean;
  day_cleared: boolean;
  next_event: { action: string; at: string } | null;
}

/** "2026-03-02T10:15:00+08:00" as "2026-03-02 10:15:00" (the market's own wall clock). */
function wall(iso: string | undefined): string {
  if (!iso) return t("value.none");
  return iso.slice(0, 19).replace("T", " ");
}

export function ClockPanel({ api, onClock }: { api: Api; onClock?: (clock: ClockState) => void }) {
  const [clock, setClock] = useState<ClockState | null>(null);
  const [mode, setMode] = useState<(typeof MODES)[number]>("accelerated");
  const [speed, setSpeed] = useState("60");
  const [outcome, run] = useAction();

  async function load() {
    const next = await api.get<ClockState>(api.m("/clock"));
    setClock(next);
    onClock?.(next);
  }
  usePoll(load, POLL_MS, [api]);

  const speedValue = Number(speed);
  const speedOk = Number.isFinite(speedValue) && speedValue > 0;

  function act(path: string, body: unknown, done: string) {
    return run(async () => {
      await api.post(api.m(path), body);
      await load();
      return t(done);
    });
  }

  const running = clock?.running ?? false;
  const stepped = running && clock?.mode === "stepped";
  const accelerated = running && clock?.mode === "accelerated";
  const handStepping = !running || stepped;

  return (
    <Panel name="clock" title={t("clock.title")}>
      {clock && (
        <dl class="facts" data-testid="clock-facts">
          <dt>{t("clock.state")}</dt>
          <dd data-testid="clock-state">
            {!clock.running
              ? t("clock.stopped")
              : clock.paused
                ? t("clock.paused")
                : t("clock.runningMode", { mode: word("clock.mode", clock.mode) })}
          </dd>
          {clock.running && clock.mode === "accelerated" && (
            <>
              <dt>{t("clock.speed")}</dt>
              <dd data-testid="clock-speed">{t("clock.speedValue", { speed: clock.speed ?? 1 })}</dd>
            </>
          )}
          <dt>{t("clock.now")}</dt>
          <dd data-testid="clock-now">{wall(clock.now)}</dd>
          <dt>{t("trade.day")}</dt>
          <dd>{clock.trading_day ?? t("value.none")}</dd>
          <dt>{t("clock.session")}</dt>
          <dd data-testid="clock-session">{word("enum", clock.session)}</dd>
          <dt>{t("clock.next")}</dt>
          <dd>
            {clock.next_event
              ? t("clock.nextValue", { action: word("clock.action", clock.next_event.action), at: wall(clock.next_event.at) })
              : t("value.none")}
          </dd>
        </dl>
      )}
      <div class="row">
        {!running && (
          <>
            <Field label={t("clock.mode")}>
              <select
                name="clock-mode"
                value={mode}
                onChange={(e) => setMode((e.target as HTMLSelectElement).value as (typeof MODES)[number])}
              >
                {MODES.map((m) => (
                  <option key={m} value={m}>
                    {word("clock.mode", m)}
                  </option>
                ))}
              </select>
            </Field>
            {mode === "accelerated" && (
              <Field label={t("clock.speed")}>
                <input
                  name="clock-speed"
                  class="tiny"
                  inputMode="decimal"
                  value={speed}
                  onInput={(e) => setSpeed((e.target as HTMLInputElement).value)}
                />
              </Field>
            )}
            <button
              type="button"
              class="primary"
              data-testid="clock-start"
              disabled={mode === "accelerated" && !speedOk}
              onClick={() => act("/clock/start", mode === "accelerated" ? { mode, speed: speedValue } : { mode }, "clock.started")}
            >
              {t("clock.start")}
            </button>
          </>
        )}
        {running && !clock?.paused && (
          <button type="button" data-testid="clock-pause" onClick={() => act("/clock/pause", undefined, "clock.pausedDone")}>
            {t("clock.pause")}
          </button>
        )}
        {running && clock?.paused && (
          <button type="button" class="primary" data-testid="clock-resume" onClick={() => act("/clock/resume", undefined, "clock.resumedDone")}>
            {t("clock.resume")}
          </button>
        )}
        {accelerated && (
          <>
            <Field label={t("clock.speed")}>
              <input
                name="clock-speed"
                class="tiny"
                inputMode="decimal"
                value={speed}
                onInput={(e) => setSpeed((e.target as HTMLInputElement).value)}
              />
            </Field>
            <button
              type="button"
              data-testid="clock-set-speed"
              disabled={!speedOk}
              onClick={() => act("/clock/speed", { speed: speedValue }, "clock.speedDone")}
            >
              {t("clock.setSpeed")}
            </button>
          </>
        )}
        {stepped && (
          <button type="button" class="primary" data-testid="clock-advance" onClick={() => act("/clock/advance", { to: "next_event" }, "clock.advanced")}>
            {t("clock.advance")}
          </button>
        )}
        {running && (
          <button type="button" data-testid="clock-stop" onClick={() => act("/clock/stop", undefined, "clock.stoppedDone")}>
            {t("clock.stop")}
          </button>
        )}
      </div>
      {handStepping && (
        <div class="row" data-testid="session-steps">
          <span class="muted small">{t("clock.byHand")}</span>
          <button type="button" data-testid="open-day" onClick={() => act("/session/open-day", {}, "clock.dayOpened")}>
            {t("clock.openDay")}
          </button>
          <button type="button" data-testid="open-session" onClick={() => act("/session", { state: "continuous" }, "clock.sessionOpened")}>
            {t("clock.openSession")}
          </button>
          <button type="button" data-testid="break-session" onClick={() => act("/session", { state: "break" }, "clock.sessionBroken")}>
            {t("clock.breakSession")}
          </button>
          <button type="button" data-testid="close-day" onClick={() => act("/session/close-day", undefined, "clock.dayClosed")}>
            {t("clock.closeDay")}
          </button>
          <button type="button" data-testid="end-of-day" onClick={() => act("/session/end-of-day", undefined, "clock.dayEnded")}>
            {t("clock.endOfDay")}
          </button>
        </div>
      )}
      <OutcomeLine outcome={outcome} testId="clock-message" />
    </Panel>
  );
}
