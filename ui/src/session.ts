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
