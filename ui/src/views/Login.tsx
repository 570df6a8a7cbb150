// Log in by pasting an API key (and the market id) handed out by the instructor. The key is
// checked by authenticating on the WebSocket, which also tells the key's role and account.
import { useState } from "preact/hooks";
import { Api, optional } from "../api";
import { t } from "../i18n";
import { explain } from "../problems";
import type { Session } from "../session";
import { Feed } from "../ws";

export function Login({ onLogin }: { onLogin: (session: Session) => void }) {
  const [marketId, setMarketId] = useState("demo");
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    if (!marketId.trim() || !key.trim()) {
      setError(t("login.missing"));
      return;
    }
    setBusy(true);
    const credentials = { marketId: marketId.trim(), key: key.trim() };
    const probe = new Feed(credentials);
    try {
      const who = await probe.connect();
      const market = await optional(
        new Api(credentials).get<Record<string, unknown>>(`/v1/markets/${encodeURIComponent(credentials.marketId)}`),
      ).catch(() => null);
      const ruleSet = market?.rule_set ?? market?.ruleset ?? null;
      onLogin({
        ...credentials,
        role: who.role,
        accountId: who.accountId,
        ruleSet: typeof ruleSet === "string" ? ruleSet : null,
      });
    } catch (failure) {
      setError(explain(failure));
    } finally {
      probe.close();
      setBusy(false);
    }
  }

  return (
    <form class="login panel" onSubmit={submit} data-testid="login-form">
      <h1>{t("login.title")}</h1>
      <p class="muted">{t("login.hint")}</p>
      <label>
        {t("login.market")}
        <input
          name="market"
          value={marketId}
          autoComplete="off"
          onInput={(e) => setMarketId((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        {t("login.key")}
        <input
          name="key"
          type="password"
          value={key}
          autoComplete="off"
          placeholder="cx_…"
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t("login.checking") : t("login.submit")}
      </button>
    </form>
  );
}
