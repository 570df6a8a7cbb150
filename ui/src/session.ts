// Who is logged in: the API key and market, kept in sessionStorage (gone when the tab closes).
export type Role = "participant" | "operator" | "observer";

export interface Session {
  marketId: string;
  key: string;
  role: Role;
  accountId: string | null;
  ruleSet: string | null; // the market's rule set when the server tells it (getMarket)
}

const STORAGE_KEY = "carbonx.session";

export function loadSession(): Session | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Session;
    return typeof value.key === "string" && typeof value.marketId === "string" ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** What a seat's login link carries in its fragment (``/ui/#market=<id>&key=<key>``): the
 * fragment never leaves the browser (no request carries it), and the app takes it out of the
 * address bar before anything else runs, so the key stays in no history entry or bookmark. */
export interface LinkLogin {
  key: string;
  marketId: string | null;
}

export function takeLinkLogin(): LinkLogin | null {
  if (!location.hash.includes("key=")) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(history.state, "", location.pathname + location.search);
  const key = cleanKey(params.get("key") ?? "");
  return key ? { key, marketId: params.get("market") || null } : null;
}

/** A seat's login link on ``base`` (the address trainees open, without ``/ui``). */
export function loginLink(base: string, marketId: string, key: string): string {
  return `${base}/ui/#${new URLSearchParams({ market: marketId, key })}`;
}

/** A key as typed or pasted: keys hold no white space, so any (a line break, the gaps of a
 * printed card) is dropped. */
export function cleanKey(text: string): string {
  return text.replace(/\s+/g, "");
}
