// Create a class market from a scenario: a shipped one by name, or one pasted as YAML; the
// number of human seats (each gets a covered entity's profile and a login); a seed; the first
// trading day (default: the scenario's); the market id. The reply carries the seats' keys and the new market's operator key: the console then
// switches to the new market. API: createClassMarket (an exchange-wide operator key only).
import { useEffect, useState } from "preact/hooks";
import { Api, ApiProblem, optional } from "../../api";
import { Panel } from "../../components/Panel";
import { t } from "../../i18n";
import { type ClassCreated, type Loose, classPaths, seatsOf } from "./classApi";
import { Field, OutcomeLine, useAction } from "./common";

const SEATS_MIN = 1; // the contract's bounds on seats
const SEATS_MAX = 200;
// The id createMarket accepts (exchange/api/market_models.py), checked here to say so plainly.
const MARKET_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The shipped scenarios' names, when the server lists them. */
async function shippedScenarios(api: Api): Promise<string[]> {
  const raw = await optional(api.get<Loose | Loose[]>("/v1/scenarios")).catch(() => null);
  const rows = Array.isArray(raw) ? raw : ((raw?.scenarios as (Loose | string)[] | undefined) ?? []);
  return rows
    .map((row) => (typeof row === "string" ? row : typeof row.name === "string" ? row.name : null))
    .filter((name): name is string => name !== null);
}

export function CreateClass({ api, onCreated }: { api: Api; onCreated: (created: ClassCreated) => void }) {
  const [scenarios, setScenarios] = useState<string[]>([]);
  const [source, setSource] = useState<"shipped" | "yaml">("shipped");
  const [scenario, setScenario] = useState("");
  const [yaml, setYaml] = useState("");
  const [marketId, setMarketId] = useState("");
  const [seats, setSeats] = useState("");
  const [seed, setSeed] = useState("");
  const [exchangeKey, setExchangeKey] = useState("");
  const [openDay, setOpenDay] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, run, setOutcome] = useAction();

  useEffect(() => {
    void shippedScenarios(api).then((names) => {
      setScenarios(names);
      setScenario((current) => current || names[0] || "");
    });
  }, [api]);

  function problem(): string | null {
    if (!MARKET_ID.test(marketId.trim())) return t("newclass.badMarketId");
    if (source === "shipped" && !scenario.trim()) return t("newclass.needScenario");
    if (source === "yaml" && !yaml.trim()) return t("newclass.needYaml");
    if (seats.trim()) {
      const n = Number(seats);
      if (!Number.isInteger(n) || n < SEATS_MIN || n > SEATS_MAX) return t("newclass.badSeats", { min: SEATS_MIN, max: SEATS_MAX });
    }
    if (seed.trim() && !/^\d{1,18}$/.test(seed.trim())) return t("newclass.badSeed");
    return null;
  }

  async function submit(event: Event) {
    event.preventDefault();
    const wrong = problem();
    if (wrong) {
      setOutcome({ ok: false, text: wrong });
      return;
    }
    const body: Record<string, unknown> = { market_id: marketId.trim() };
    if (source === "shipped") body.scenario = scenario.trim();
    else body.yaml = yaml;
    if (seats.trim()) body.seats = Number(seats);
    if (seed.trim()) body.seed = Number(seed);
    if (openDay) body.open_day = openDay;
    setBusy(true);
    await run(async () => {
      // Only an exchange-wide operator key may create a market: the one typed here, else the
      // key this console was opened with.
      const creator = exchangeKey.trim() ? new Api({ key: exchangeKey.trim(), marketId: "*" }) : api;
      const raw = await creator.post<Loose>(classPaths.create, body).catch((error: unknown) => {
        // An unknown name is answered with the shipped ones: offer them as a list.
        const available = error instanceof ApiProblem ? error.problem.available : null;
        if (Array.isArray(available) && available.length) {
          const names = available.map(String);
          setScenarios(names);
          setScenario((current) => (names.includes(current) ? current : names[0]));
        }
        throw error;
      });
      const created: ClassCreated = {
        market_id: String(raw.market_id),
        scenario: String(raw.scenario ?? body.scenario ?? ""),
        seats: seatsOf(raw),
        operator_key: String(raw.operator_key),
        bots: Array.isArray(raw.bots) ? (raw.bots as ClassCreated["bots"]) : [],
        phase: String(raw.phase ?? ""),
      };
      onCreated(created);
      return t("newclass.created", { market_id: created.market_id, seats: created.seats.length, bots: created.bots.length });
    });
    setBusy(false);
  }

  return (
    <Panel name="newclass" title={t("newclass.title")}>
      <form class="stack" onSubmit={submit} data-testid="create-class-form">
        <p class="muted small">{t("newclass.hint")}</p>
        <div class="row">
          <Field label={t("newclass.marketId")}>
            <input name="class-market" value={marketId} autoComplete="off" placeholder="class1" onInput={(e) => setMarketId((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t("newclass.seats")}>
            <input
              name="seats"
              class="tiny"
              inputMode="numeric"
              value={seats}
              placeholder={t("newclass.seatsDefault")}
              onInput={(e) => setSeats((e.target as HTMLInputElement).value)}
            />
          </Field>
          <Field label={t("newclass.openDay")}>
            <input name="open-day" type="date" value={openDay} onInput={(e) => setOpenDay((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t("newclass.seed")}>
            <input name="seed" class="tiny" inputMode="numeric" value={seed} placeholder={t("newclass.seedDefault")} onInput={(e) => setSeed((e.target as HTMLInputElement).value)} />
          </Field>
        </div>
        <Field label={t("newclass.exchangeKey")} wide>
          <input
            name="exchange-key"
            type="password"
            autoComplete="off"
            value={exchangeKey}
            placeholder={t("newclass.exchangeKeyHint")}
            onInput={(e) => setExchangeKey((e.target as HTMLInputElement).value)}
          />
        </Field>
        <div class="segmented" role="group" aria-label={t("newclass.source")}>
          <button type="button" class={source === "shipped" ? "on" : ""} aria-pressed={source === "shipped"} onClick={() => setSource("shipped")}>
            {t("newclass.shipped")}
          </button>
          <button type="button" class={source === "yaml" ? "on" : ""} aria-pressed={source === "yaml"} onClick={() => setSource("yaml")}>
            {t("newclass.yaml")}
          </button>
        </div>
        {source === "shipped" ? (
          <Field label={t("newclass.scenario")}>
            {scenarios.length > 0 ? (
              <select name="scenario" value={scenario} onChange={(e) => setScenario((e.target as HTMLSelectElement).value)}>
                {scenarios.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            ) : (
              <input name="scenario" value={scenario} autoComplete="off" onInput={(e) => setScenario((e.target as HTMLInputElement).value)} />
            )}
          </Field>
        ) : (
          <Field label={t("newclass.yamlText")} wide>
            <textarea name="scenario-yaml" rows={8} value={yaml} onInput={(e) => setYaml((e.target as HTMLTextAreaElement).value)} />
          </Field>
        )}
        <div>
          <button type="submit" class="primary" data-testid="create-class" disabled={busy}>
            {busy ? t("newclass.creating") : t("newclass.create")}
          </button>
        </div>
      </form>
      <OutcomeLine outcome={outcome} testId="create-class-message" />
    </Panel>
  );
}
