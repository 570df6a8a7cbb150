// The address trainees open, for the login cards and links (getPublicAddress). In order: the
// one set in this console (remembered in this browser), the server's public URL
// (CARBONX_PUBLIC_URL, --public-url), this console's own address. Never a loopback address
// (127.0.0.1, localhost, ::1): on a trainee's phone or laptop it names that device, so a console
// opened on the server itself has no address to print until the instructor gives one.

export interface ServerAddress {
  public_url: string | null;
  listen_host: string | null;
  loopback_only: boolean;
  port: number | null;
  candidates: string[];
}

export type AddressSource = "console" | "server" | "origin";

export interface Address {
  base: string | null; // http(s)://host[:port][/prefix], without /ui
  source: AddressSource | null;
}

export type BaseCheck = { ok: true; base: string } | { ok: false; reason: "invalid" | "loopback"; host?: string };

const STORAGE_KEY = "carbonx.publicUrl";
// A host name (international ones arrive as xn--), an IPv4 address or a bracketed IPv6 one.
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)$/i;

/** Whether ``host`` (a URL's hostname) names the device it is opened on. 0.0.0.0 is no
 * address to open either. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost") || name === "0.0.0.0") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === "::1" || name === "::";
}

/** ``text`` as a base address trainees can open; ``192.168.1.20:8000`` is read as http. */
export function checkBase(text: string): BaseCheck {
  const trimmed = text.trim();
  if (!trimmed || /[\s%]/.test(trimmed)) return { ok: false, reason: "invalid" };
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (!["http:", "https:"].includes(url.protocol) || !HOST.test(url.hostname)) return { ok: false, reason: "invalid" };
  if (url.search || url.hash || url.username || url.password) return { ok: false, reason: "invalid" };
  if (isLoopbackHost(url.hostname)) return { ok: false, reason: "loopback", host: url.hostname };
  const path = url.pathname.replace(/\/+$/, "").replace(/\/ui$/, "");
  return { ok: true, base: url.origin + path };
}

function usable(text: string | null | undefined): string | null {
  if (!text) return null;
  const checked = checkBase(text);
  return checked.ok ? checked.base : null;
}

export function savedAddress(): string | null {
  return usable(localStorage.getItem(STORAGE_KEY));
}

export function saveAddress(base: string | null): void {
  if (base) localStorage.setItem(STORAGE_KEY, base);
  else localStorage.removeItem(STORAGE_KEY);
}

export function chooseAddress(saved: string | null, server: ServerAddress | null, origin: string): Address {
  const fromConsole = usable(saved);
  if (fromConsole) return { base: fromConsole, source: "console" };
  const fromServer = usable(server?.public_url);
  if (fromServer) return { base: fromServer, source: "server" };
  const fromOrigin = usable(origin);
  if (fromOrigin) return { base: fromOrigin, source: "origin" };
  return { base: null, source: null };
}
