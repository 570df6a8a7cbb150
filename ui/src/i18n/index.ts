// Translations and locale-aware formatting. Every visible string comes from zh-CN.json or en.json;
// numbers, money (CNY) and tonnes are formatted for the active locale.
import en from "./en.json";
import zhCN from "./zh-CN.json";

export type Locale = "zh-CN" | "en";
export const LOCALES: Locale[] = ["zh-CN", "en"];
type Messages = Record<string, string>;
const MESSAGES: Record<Locale, Messages> = { "zh-CN": zhCN, en };
const STORAGE_KEY = "carbonx.locale";

let current: Locale = "zh-CN";

export function locale(): Locale {
  return current;
}

export function setLocale(next: Locale, remember = true): void {
  current = next;
  document.documentElement.lang = next;
  if (remember) localStorage.setItem(STORAGE_KEY, next);
}

/** The locale the user chose before, if any (the toggle persists across visits). */
export function rememberedLocale(): Locale | null {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === "zh-CN" || saved === "en" ? saved : null;
}

/** The default without a remembered choice: Chinese for China's rule sets, English otherwise. */
export function defaultLocale(ruleSet: string | null): Locale {
  if (ruleSet === null) return "zh-CN";
  return ruleSet.startsWith("cn_") || ruleSet.endsWith("_pilot") ? "zh-CN" : "en";
}

export type Params = Record<string, unknown>;

/** The placeholders of ``key``'s message that ``params`` does not fill. */
export function missing(key: string, params: Params): string[] {
  const template = MESSAGES[current][key] ?? "";
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).filter((name) => !(name in params));
}

/** The keys of ``prefix`` and its variants (``prefix.<variant>``). */
export function variants(prefix: string): string[] {
  return Object.keys(MESSAGES[current]).filter((k) => k === prefix || k.startsWith(prefix + "."));
}

export function has(key: string): boolean {
  return key in MESSAGES[current];
}

/** The message for ``key`` with ``{name}`` placeholders filled; numbers are formatted by the
 * name's unit suffix (``_fen`` money, ``_t`` tonnes, ``_bp`` percent). A missing key shows as
 * itself, which the browser tests look for. */
export function t(key: string, params: Params = {}): string {
  const template = MESSAGES[current][key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? formatParam(name, params[name]) : whole,
  );
}

const IDENTIFIERS = /(^|_)(year|vintage|id|seq|seat)$|^(last|first)$/;

/** Whether a number named ``name`` is a name (a year, an id, a seq), printed without grouping. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIERS.test(name);
}

function formatParam(name: string, value: unknown): string {
  if (value === null || value === undefined) return t("value.none");
  if (typeof value === "number") {
    // Years, vintages, ids and sequence numbers are names, not amounts: no thousands separator.
    if (isIdentifier(name)) return String(value);
    if (name.endsWith("_fen")) return money(value);
    if (name.endsWith("_t")) return tonnes(value);
    if (name.endsWith("_bp")) return percentBp(value);
    return integer(value);
  }
  if (typeof value === "string") {
    // A market's time zone by its local name where the messages have one (北京时间).
    if (name === "timezone" && has(`zone.${value}`)) return t(`zone.${value}`);
    // Enumerated values (states, sides, order types, reasons) have their own words.
    for (const prefix of ["state", "side", "type", "status", "reason", "kind", "session"]) {
      if (name === prefix || name.endsWith("_" + prefix) || name === "from" || name === "to") {
        const key = `enum.${value}`;
        if (has(key)) return t(key);
      }
    }
    return value;
  }
  if (Array.isArray(value)) {
    // Times from and to (a block session: [["13:00", "15:00"]]) read as ranges.
    const isRange = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "string");
    if (value.length && value.every(isRange)) return value.map(([from, to]) => `${from}–${to}`).join(", ");
    return value.map((v) => formatParam(name, v)).join(", ");
  }
  return JSON.stringify(value);
}

const cache = new Map<string, Intl.NumberFormat>();
function nf(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = current + key;
  let format = cache.get(id);
  if (!format) {
    format = new Intl.NumberFormat(current, options);
    cache.set(id, format);
  }
  return format;
}

/** Money in fen as CNY, e.g. ¥60.00. */
export function money(fen: number): string {
  return nf("money", { style: "currency", currency: "CNY" }).format(fen / 100);
}

/** A price in fen without the currency sign, two decimals (the ladder, the tape). */
export function price(fen: number): string {
  return nf("price", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(fen / 100);
}

export function integer(n: number): string {
  return nf("int", { maximumFractionDigits: 0 }).format(n);
}

export function tonnes(t_: number): string {
  return t("unit.tonnes", { n: integer(t_) });
}

export function percentBp(bp: number): string {
  return nf("pct", { style: "percent", maximumFractionDigits: 2 }).format(bp / 10_000);
}

/** A time of day in the market's time zone. */
export function clockTime(tsNs: number, timeZone: string): string {
  return new Intl.DateTimeFormat(current, {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  }).format(new Date(tsNs / 1e6));
}

export function date(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(current, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** Parse a price typed in yuan ("60", "60.5", "60.05") into whole fen, without floats. */
export function parsePriceFen(text: string): number | null {
  const match = /^\s*(\d{1,12})(?:[.,](\d{0,2}))?\s*$/.exec(text);
  if (!match) return null;
  const fen = Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
  return fen > 0 ? fen : null;
}

export function parseTonnes(text: string): number | null {
  const match = /^\s*(\d{1,15})\s*$/.exec(text);
  if (!match) return null;
  const n = Number(match[1]);
  return n > 0 && Number.isSafeInteger(n) ? n : null;
}

/** Yuan text for a fen price, for pre-filling an input ("60.00"). */
export function priceInput(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
}
