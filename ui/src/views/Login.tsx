// Log in with the API key the instructor handed out: typed from a login card, pasted, or carried
// by the card's link (QR code), which logs in by itself. The key names its market (getSession),
// so a trainee never types one; only an exchange-wide key, valid in every market, is asked which
// market to open (listMarkets). The key field is unmasked by default (a 46-character key with
// look-alike letters is typed more easily when seen), with a toggle to hide it.
import { useEffect, useState } from "preact/hooks";
import { Api, ApiProblem } from "../api";
import { t } from "../i18n";
import { explain } from "../problems";
import { type LinkLogin, type Role, type Session, cleanKey } from "../session";

interface KeySession {
  market_id: string | null;
  role: Role;
  account_id: string | null;
}

/** Plain words for a refused login: an unknown key is most often a mistyped one. */
function loginError(failure: unknown): string {
  if (failure instanceof ApiProblem && failure.code === "UNAUTHENTICATED") return t("login.unknownKey");
  return explain(failure);
}

export function Login({ onLogin, linked = null }: { onLogin: (session: Session) => void; linked?: LinkLogin | null }) {
  const [key, setKey] = useState(linked?.key ?? "");
  const [shown, setShown] = useState(true);
  // An exchange-wide key's markets to choose from, and the one chosen.
  const [markets, setMarkets] = useState<string[] | null>(null);
  const [marketId, setMarketId] = useState(linked?.marketId ?? "");
  // The refusal as a function: said again in the other language when the toggle is pressed.
  const [error, setError] = useState<(() => string) | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (linked) void logIn(linked.key, linked.marketId);
  }, []);

  async function logIn(typed: string, chosen: string | null) {
    setError(null);
    const credential = cleanKey(typed);
    if (!credential) {
      setError(() => () => t("login.missing"));
      return;
    }
    setBusy(true);
    try {
      const api = new Api({ key: credential, marketId: "" });
      const who = await api.get<KeySession>("/v1/session");
      let market = who.market_id;
      if (market === null) {
        const listed = await api.get<{ markets: { market_id: string }[] }>("/v1/markets");
        const ids = listed.markets.map((m) => m.market_id);
        if (!chosen || !ids.includes(chosen)) {
          setMarkets(ids);
          setMarketId(ids[0] ?? "");
          if (ids.length === 0) setError(() => () => t("login.noMarkets"));
          return;
        }
        market = chosen;
      }
      const info = await new Api({ key: credential, marketId: market })
        .get<Record<string, unknown>>(`/v1/markets/${encodeURIComponent(market)}`)
        .catch((failure: unknown) => {
          if (failure instanceof ApiProblem && failure.code === "UNKNOWN_MARKET") throw failure;
          return null; // the rule set only chooses the default language
        });
      const ruleSet = info?.rule_set ?? info?.ruleset ?? null;
      onLogin({
        key: credential,
        marketId: market,
        role: who.role,
        accountId: who.account_id,
        ruleSet: typeof ruleSet === "string" ? ruleSet : null,
      });
    } catch (failure) {
      setError(() => () => loginError(failure));
    } finally {
      setBusy(false);
    }
  }

  function submit(event: Event) {
    event.preventDefault();
    void logIn(key, markets ? marketId : null);
  }

  return (
    <form class="login panel" onSubmit={submit} data-testid="login-form">
      <h1>{t("login.title")}</h1>
      <p class="muted">{t("login.hint")}</p>
      <label>
        {t("login.key")}
        <span class="key-field">
          <input
            name="key"
            class="key-input"
            type={shown ? "text" : "password"}
            value={key}
            autoComplete="off"
            autoCapitalize="off"
            autoCorrect="off"
            spellcheck={false}
            placeholder="cx_…"
            onInput={(e) => {
              setKey((e.target as HTMLInputElement).value);
              setMarkets(null); // another key: its market is asked again
            }}
          />
          <button
            type="button"
            class="small"
            data-testid="key-visibility"
            aria-pressed={!shown}
            onClick={() => setShown(!shown)}
          >
            {shown ? t("login.hideKey") : t("login.showKey")}
          </button>
        </span>
      </label>
      {markets && markets.length > 0 && (
        <label>
          {t("login.market")}
          <select
            name="market"
            data-testid="login-market"
            value={marketId}
            onChange={(e) => setMarketId((e.target as HTMLSelectElement).value)}
          >
            {markets.map((id) => (
              <option key={id} value={id} data-i18n-exempt>
                {id}
              </option>
            ))}
          </select>
          <span class="small">{t("login.marketHint")}</span>
        </label>
      )}
      {error && (
        <p class="error" role="alert">
          {error()}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t("login.checking") : t("login.submit")}
      </button>
    </form>
  );
}
