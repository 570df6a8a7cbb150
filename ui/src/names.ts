// What the screens call units and instruments: the server's display names (`name` by language,
// on listInstruments and getBalances; from the market's rule set), remembered as they arrive.
// A unit the server has not named yet is named from its code.
import { locale, t } from "./i18n";
import { unitParts } from "./market";

export type UnitName = Record<string, string>;

const known = new Map<string, UnitName>();

/** Keep the names of what an answer lists (instruments by ``symbol``, holdings by ``unit``). */
export function rememberNames(items: { symbol?: string; unit?: string; name?: UnitName }[]): void {
  for (const item of items) {
    const code = item.symbol ?? item.unit;
    if (code && item.name && typeof item.name === "object") known.set(code, item.name);
  }
}

/** The unit's (or instrument's) name in the active language. */
export function unitName(code: string): string {
  const named = known.get(code)?.[locale()];
  if (named) return named;
  const { kind, vintage, project } = unitParts(code);
  if (project !== null) return t("unit.offset", { kind, project, vintage });
  if (vintage) return t("unit.allowance", { kind, vintage });
  return code;
}
