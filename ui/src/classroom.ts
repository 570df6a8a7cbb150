// A seat's own view of its class (getMyClassSeat, docs/classroom.md): the clock, trading day n
// of N, what comes next, the surrender window, and the seat's firm. ``useMyClass`` reads it on
// a modest poll and after each compliance or balance message on the WebSocket; outside a class
// (NOT_A_CLASS) it reads nothing more and answers null.
import { useEffect, useState } from "preact/hooks";
import { type Api, ApiProblem } from "./api";
import type { Feed, Message } from "./ws";

export const CLASS_POLL_MS = 4000;
const AFTER_MESSAGE_MS = 300;

export interface ClassClock {
  state: "not_started" | "running" | "paused" | "stopped";
  mode: string | null;
  speed: number | null;
}

export interface ClassNext {
  kind: "start" | "trading_day" | "phase" | "end";
  day_number: number | null;
  phase: string | null;
}

export interface SeatAbatement {
  open: boolean;
  declared_t: number;
  max_t: number;
  cost_fen: number;
  marginal_cost_fen: number;
}

export interface SeatResult {
  complied: boolean;
  shortfall_t: number;
  penalty_fen: number;
  reference_price_fen: number | null;
  abatement_cost_fen: number;
  net_spend_fen: number;
  pnl_fen: number;
  cost_fen: number;
}

export interface SeatFirm {
  account_id: string;
  seat: number | null;
  name: string;
  profile: string;
  sector: string;
  province: string;
  sector_zh: string;
  province_zh: string;
  gas_fired: boolean; // its units are gas-fired (燃气机组)
  gas_top_up: boolean; // ... and verification's true-up tops it up to its verified emissions
  year: number;
  baseline_t: number;
  projected_t: number;
  verified: boolean;
  allocation_t: number;
  surrendered_t: number;
  usable_t: number;
  position_t: number; // long above 0, short below
  shortfall_t: number | null;
  abatement: SeatAbatement;
  result: SeatResult | null;
}

export interface MyClass {
  market_id: string;
  phase: string;
  compliance_year: number;
  next_phase: string | null;
  clock: ClassClock;
  trading_day: string | null;
  session: string;
  day_number: number;
  days_in_year: number;
  days_left: number;
  deadline_day: number;
  deadline_days_left: number;
  next: ClassNext;
  surrender_open: boolean;
  abatement_open: boolean;
  seat: SeatFirm | null;
}

export interface AbatementQuote {
  qty_t: number;
  cost_fen: number;
  average_fen: number;
  marginal_cost_fen: number;
  max_t: number;
  declared_t: number;
  open: boolean;
}

/** The class as the key's seat sees it, kept fresh: ``undefined`` while loading, ``null``
 * outside a class; ``refresh`` reads it again now. */
export function useMyClass(api: Api, feed: Feed): { view: MyClass | null | undefined; refresh: () => void } {
  const [view, setView] = useState<MyClass | null | undefined>(undefined);
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    let live = true;
    let timer = 0;
    let soon = 0;
    const load = async () => {
      try {
        const read = await api.get<MyClass>(api.m("/class/me"));
        if (live) setView(read);
      } catch (error) {
        // Not a class (or a server without the route): nothing to show, nothing to poll.
        if (error instanceof ApiProblem && ["NOT_A_CLASS", "NOT_FOUND"].includes(error.code)) {
          if (live) setView(null);
          window.clearInterval(timer);
        }
        // Any other failure (the network): keep what is shown, the next poll tries again.
      }
    };
    void load();
    timer = window.setInterval(() => void load(), CLASS_POLL_MS);
    const stop = feed.listen((message: Message) => {
      if (!["compliance", "balances", "fill"].includes(message.type)) return;
      window.clearTimeout(soon);
      soon = window.setTimeout(() => void load(), AFTER_MESSAGE_MS);
    });
    const stopReconnect = feed.onReconnect(() => void load());
    return () => {
      live = false;
      window.clearInterval(timer);
      window.clearTimeout(soon);
      stop();
      stopReconnect();
    };
  }, [api, asked]);
  return { view, refresh: () => setAsked((n) => n + 1) };
}
