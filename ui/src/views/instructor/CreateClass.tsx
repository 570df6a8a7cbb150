// Create a class market from a scenario: a shipped one picked from the list listScenarios gives
// (by its title, with what it is: description, rule set, firms, bots, default seats, trading
// days, in the console's language), or one pasted as YAML;
// the number of human seats (each gets a covered entity's profile and a login) and how many of
// them are gas-fired (燃气机组: the first n; verification tops a gas-fired seat up to its verified
// emissions where the scenario's allocation and rules have the top-up, which the form says);
// a seed; the first trading day (default: the scenario's); the market id. The reply carries the seats' keys
// and the new market's operator key: the console then switches to the new market.
// API: listScenarios, createClassMarket (an exchange-wide operator key only).
import { useEffect, useState } from "preact/hooks";
import { Api } from "../../api";
import { Panel } from "../../components/Panel";
import { locale, t } from "../../i18n";
import { type ClassCreated, type Loose, classPaths, seatsOf } from "./classApi";
import { Field, OutcomeLine, useAction } from "./common";

const SEATS_MIN = 1; // the contract's bounds on seats
const SEATS_MAX = 200;
// The id createMarket accepts (exchange/api/market_models.py), checked here to say so plainly.
const MARKET_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** One shipped scenario as listScenarios describes it. */
export interface ScenarioInfo {
  name: string;
  title: string;
  title_zh: string;
  description: string;
  description_zh: string;
  rule_set: string;
  firms: number;
  bots: number;
  seats_default: number;
  trading_days_per_year: number;
  /** Whether verification tops a gas-fired seat up to its verified emissions (a benchmark
   * allocation under rules with the gas top-up); null: the server does not say. */
  gas_fired_top_up: boolean | null;
}

/** The shipped scenarios (listScenarios); null when the server cannot list them. */
async function shippedScenarios(api: Api): Promise<ScenarioInfo[] | null> {
  const raw = await api.get<{ scenarios: Loose[] }>("/v1/scenarios").catch(() => null);
  if (!raw || !Array.isArray(raw.scenarios)) return null;
  const num = (value: unknown) => (typeof value === "number" ? value : 0);
  const text = (value: unknown, otherwise: string) => (typeof value === "string" && value ? value : otherwise);
  return raw.scenarios
    .filter((row) => typeof row.name === "string")
    .map((row) => ({
      name: String(row.name),
      title: text(row.title, String(row.name)),
      title_zh: text(row.title_zh, text(row.title, String(row.name))),
      description: text(row.description, ""),
      description_zh: text(row.description_zh, text(row.description, "")),
      rule_set: String(row.rule_set ?? ""),
      firms: num(row.firms),
      bots: num(row.bots),
      seats_default: num(row.seats_default),
      trading_days_per_year: num(row.trading_days_per_year),
      gas_fired_top_up: typeof row.gas_fired_top_up === "boolean" ? row.gas_fired_top_up : null,
    }));
}

/** A scenario's title and description in the console's language. */
function inLanguage(row: ScenarioInfo): { title: string; description: string } {
  return locale() === "zh-CN"
    ? { title: row.title_zh, description: row.description_zh }
    : { title: row.title, description: row.description };
}

export function CreateClass({ api, onCreated }: { api: Api; onCreated: (created: ClassCreated) => void }) {
  // undefined: still loading; null: the server could not list them (a name is typed instead).
  const [scenarios, setScenarios] = useState<ScenarioInfo[] | null | undefined>(undefined);
  const [source, setSource] = useState<"shipped" | "yaml">("shipped");
  const [scenario, setScenario] = useState("");
  const [yaml, setYaml] = useState("");
  const [marketId, setMarketId] = useState("");
  const [seats, setSeats] = useState("");
  const [gasSeats, setGasSeats] = useState("");
  const [seed, setSeed] = useState("");
  const [exchangeKey, setExchangeKey] = useState("");
  const [openDay, setOpenDay] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, run, setOutcome] = useAction();
  const [checked, setChecked] = useState(false); // asked to create: say what is wrong, if anything

  useEffect(() => {
    void shippedScenarios(api).then((listed) => {
      setScenarios(listed);
      setScenario((current) => current || listed?.[0]?.name || "");
    });
  }, [api]);

  const picked = scenarios?.find((row) => row.name === scenario) ?? null;

  function problem(): string | null {
    if (!MARKET_ID.test(marketId.trim())) return t("newclass.badMarketId");
    if (source === "shipped" && !scenario.trim()) return t("newclass.needScenario");
    if (source === "yaml" && !yaml.trim()) return t("newclass.needYaml");
    if (seats.trim()) {
      const n = Number(seats);
      if (!Number.isInteger(n) || n < SEATS_MIN || n > SEATS_MAX) return t("newclass.badSeats", { min: SEATS_MIN, max: SEATS_MAX });
    }
    if (gasSeats.trim()) {
      const n = Number(gasSeats);
      // At most the seats asked for, else the picked scenario's default (a pasted scenario's
      // default is the server's to check).
      const most = seats.trim() ? Number(seats) : source === "shipped" && picked ? picked.seats_default : SEATS_MAX;
      if (!Number.isInteger(n) || n < 0 || n > most) return t("newclass.badGasSeats", { max: most });
    }
    if (seed.trim() && !/^\d{1,18}$/.test(seed.trim())) return t("newclass.badSeed");
    return null;
  }

  async function submit(event: Event) {
    event.preventDefault();
    // What is wrong with the form shows as long as it is wrong, in the console's language.
    setChecked(true);
    if (problem()) {
      setOutcome(null);
      return;
    }
    const body: Record<string, unknown> = { market_id: marketId.trim() };
    if (source === "shipped") body.scenario = scenario.trim();
    else body.yaml = yaml;
    if (seats.trim()) body.seats = Number(seats);
    if (gasSeats.trim()) body.gas_fired_seats = Number(gasSeats);
    if (seed.trim()) body.seed = Number(seed);
    if (openDay) body.open_day = openDay;
    setBusy(true);
    await run(async () => {
      // Only an exchange-wide operator key may create a market: the one typed here, else the
      // key this console was opened with.
      const creator = exchangeKey.trim() ? new Api({ key: exchangeKey.trim(), marketId: "*" }) : api;
      const raw = await creator.post<Loose>(classPaths.create, body);
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
          <Field label={t("newclass.gasSeats")}>
            <input
              name="gas-fired-seats"
              class="tiny"
              inputMode="numeric"
              value={gasSeats}
              placeholder={t("newclass.gasSeatsDefault")}
              aria-describedby="gas-seats-note"
              onInput={(e) => setGasSeats((e.target as HTMLInputElement).value)}
            />
          </Field>
          <Field label={t("newclass.openDay")}>
            <input name="open-day" type="date" value={openDay} onInput={(e) => setOpenDay((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t("newclass.seed")}>
            <input name="seed" class="tiny" inputMode="numeric" value={seed} placeholder={t("newclass.seedDefault")} onInput={(e) => setSeed((e.target as HTMLInputElement).value)} />
          </Field>
        </div>
        <p class="muted small" id="gas-seats-note" data-testid="gas-seats-note">
          {t("newclass.gasSeatsNote")}
          {locale() === "zh-CN" ? "" : " "}
          {source === "shipped" && picked && picked.gas_fired_top_up !== null
            ? t(picked.gas_fired_top_up ? "newclass.gasTopUp" : "newclass.gasNoTopUp")
            : t("newclass.gasTopUpWhen")}
        </p>
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
          <div class="stack">
            <Field label={t("newclass.scenario")}>
              {scenarios === null ? (
                <input name="scenario" value={scenario} autoComplete="off" onInput={(e) => setScenario((e.target as HTMLInputElement).value)} />
              ) : (
                <select
                  name="scenario"
                  value={scenario}
                  disabled={scenarios === undefined}
                  onChange={(e) => setScenario((e.target as HTMLSelectElement).value)}
                >
                  {scenarios === undefined && <option value="">{t("app.loading")}</option>}
                  {scenarios?.map((row) => (
                    <option key={row.name} value={row.name}>
                      {inLanguage(row).title}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {picked && (
              <p class="muted small" data-testid="scenario-facts">
                {t("newclass.scenarioFacts", {
                  name: picked.name,
                  rule_set: picked.rule_set,
                  firms: picked.firms,
                  bots: picked.bots,
                  seats: picked.seats_default,
                  days: picked.trading_days_per_year,
                })}
                {inLanguage(picked).description && (
                  <>
                    <br />
                    <span data-i18n-exempt data-testid="scenario-description">
                      {inLanguage(picked).description}
                    </span>
                  </>
                )}
              </p>
            )}
          </div>
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
      <OutcomeLine outcome={checked && problem() ? { ok: false, text: problem()! } : outcome} testId="create-class-message" />
    </Panel>
  );
}
