// The shell: session, route and language (a login link's key, taken from the address by
// main.tsx, goes to the login view). Views get one shared REST client and one shared
// WebSocket feed per session, so the trainee screen and the instructor console talk to the API
// the same way.
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api } from "./api";
import { LOCALES, type Locale, defaultLocale, locale, rememberedLocale, setLocale, t } from "./i18n";
import { type Route, currentRoute, navigate, onNavigate } from "./router";
import { type LinkLogin, type Session, clearSession, loadSession, saveSession } from "./session";
import { Instructor } from "./views/instructor/lazy";
import { Login } from "./views/Login";
import { Trade } from "./views/Trade";
import { type Connection, Feed } from "./ws";

export interface Ctx {
  session: Session;
  api: Api;
  feed: Feed;
}

const LANGUAGE_NAMES: Record<Locale, string> = { "zh-CN": "中文", en: "English" };

export function App({ linked = null }: { linked?: LinkLogin | null }) {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [link, setLink] = useState<LinkLogin | null>(linked); // used once: not after a log-out
  const [route, setRoute] = useState<Route>(currentRoute);
  const [lang, setLang] = useState<Locale>(() => {
    const chosen = rememberedLocale() ?? defaultLocale(session?.ruleSet ?? null);
    setLocale(chosen, false);
    return chosen;
  });
  useEffect(() => onNavigate(() => setRoute(currentRoute())), []);
  useEffect(() => {
    document.title = t("app.title");
  }, [lang]);

  const ctx = useMemo<Ctx | null>(() => {
    if (!session) return null;
    return { session, api: new Api(session), feed: new Feed(session) };
  }, [session]);

  useEffect(() => {
    if (!ctx) return;
    ctx.feed.start(); // a refused key shows on the next REST call
    return () => ctx.feed.close();
  }, [ctx]);

  // Without a session only the login view; with one, the views its role may use: the console
  // for instructors and (read-only) observers, the trading screen for participants.
  const console_ = session?.role === "operator" || session?.role === "observer";
  useEffect(() => {
    if (!session && route !== "login") navigate("login");
    if (session && (route === "login" || (route === "instructor") !== console_)) navigate(console_ ? "instructor" : "trade");
  }, [session, route]);

  function login(next: Session) {
    setLink(null);
    saveSession(next);
    if (!rememberedLocale()) switchLanguage(defaultLocale(next.ruleSet), false);
    setSession(next);
  }

  function logout() {
    clearSession();
    setSession(null);
  }

  function switchLanguage(next: Locale, remember = true) {
    setLocale(next, remember);
    setLang(next);
  }

  const other = LOCALES.find((l) => l !== locale()) ?? "en";
  const toggle = (
    <button
      type="button"
      class="lang-toggle"
      data-testid="lang-toggle"
      lang={other}
      data-i18n-exempt
      title={t("app.switchLanguage")}
      onClick={() => switchLanguage(other)}
    >
      {LANGUAGE_NAMES[other]}
    </button>
  );

  return (
    <div class="app" key="app">
      <header class="topbar">
        <span class="brand">{t("app.brand")}</span>
        {session && (
          <span class="who" data-testid="who">
            {t("app.market")}: <b>{session.marketId}</b>
            {session.accountId && (
              <>
                {" · "}
                {t("app.account")}: <b>{session.accountId}</b>
              </>
            )}
            {" · "}
            {t(`role.${session.role}`)}
          </span>
        )}
        <span class="spacer" />
        {ctx && <ConnectionState feed={ctx.feed} />}
        {toggle}
        {session && (
          <button type="button" class="link" data-testid="logout" onClick={logout}>
            {t("app.logout")}
          </button>
        )}
      </header>
      <main>
        {!ctx && <Login onLogin={login} linked={link} />}
        {ctx && route === "trade" && !console_ && <Trade ctx={ctx} />}
        {ctx && route === "instructor" && console_ && <Instructor ctx={ctx} onSession={login} />}
      </main>
    </div>
  );
}

/** The feed's connection in the header: connected, reconnecting or offline, in words and
 * colour, told to screen readers as it changes. */
function ConnectionState({ feed }: { feed: Feed }) {
  const [state, setState] = useState<Connection>(feed.connection);
  useEffect(() => {
    setState(feed.connection);
    return feed.onConnection(setState);
  }, [feed]);
  return (
    <span class={`connection ${state}`} role="status" data-testid="connection" data-state={state}>
      <span class="dot" aria-hidden="true" />
      {t(`connection.${state}`)}
    </span>
  );
}
