// The trainee's MRV panel in a class ("MRV" / "数据报送", docs/classroom.md "The MRV phase"):
// the seat's own year (correct, deposit, the default line) and, in a class whose trainees
// verify, the seat it verifies (findings, sign). Read every few seconds while the class is in
// its MRV phase or has a report to show (getClassMrv, getClassMrvSeat); nothing outside a
// class with an MRV phase.
import { useEffect, useState } from "preact/hooks";
import { type Api, optional } from "../api";
import { CLASS_POLL_MS } from "../classroom";
import { locale, t } from "../i18n";
import { type MrvSeatView, MrvSeat } from "./MrvSeat";
import { Panel } from "./Panel";

interface MyMrv {
  enabled: boolean;
  phase: string;
  verifies: { account_id: string; seat: number; name: string; name_zh: string }[];
  mine: MrvSeatView | null;
}

/** The allowance's price now (best offer, else last, else reference) for the default line. */
export function usePrice(api: Api, year: number | null): number | null {
  const [price, setPrice] = useState<number | null>(null);
  useEffect(() => {
    if (year === null) return;
    let live = true;
    optional(api.get<Record<string, number | null>>(api.m(`/quotes/CEA${year}`)))
      .then((q) => {
        if (live && q) setPrice(q.ask_price_fen ?? q.last_price_fen ?? q.reference_price_fen ?? null);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, year]);
  return price;
}

export function MrvPanel({ api, phase }: { api: Api; phase: string }) {
  const [mine, setMine] = useState<MyMrv | null>(null);
  const [checked, setChecked] = useState<Record<string, MrvSeatView>>({});
  const [tick, setTick] = useState(0);
  const price = usePrice(api, mine?.mine?.year ?? null);

  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const read = await api.get<MyMrv>(api.m("/class/mrv"));
        if (!live) return;
        setMine(read);
        const seen: Record<string, MrvSeatView> = {};
        for (const v of read.verifies) {
          seen[v.account_id] = await api.get<MrvSeatView>(api.m(`/class/mrv/seats/${encodeURIComponent(v.account_id)}`));
        }
        if (live) setChecked(seen);
      } catch {
        // the next poll tries again
      }
    };
    void load();
    const timer = window.setInterval(() => void load(), CLASS_POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [api, phase, tick]);

  const own = mine?.mine;
  if (!mine || !mine.enabled || !own || own.months.length === 0) return null;
  return (
    <Panel name="mrv" title={t("mrv.title", { year: own.year })}>
      <MrvSeat api={api} view={own} mode="seat" priceFen={price} onChanged={(v) => setMine({ ...mine, mine: v })} />
      {mine.verifies.map((v) =>
        checked[v.account_id] ? (
          <div key={v.account_id} class="mrv-verifies">
            <h3>{t("mrv.youVerify", { name: locale() === "zh-CN" ? v.name_zh : v.name })}</h3>
            <MrvSeat
              api={api}
              view={checked[v.account_id]}
              mode="verifier"
              priceFen={price}
              onChanged={() => setTick((n) => n + 1)}
            />
          </div>
        ) : null,
      )}
    </Panel>
  );
}
