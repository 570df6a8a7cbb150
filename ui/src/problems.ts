// Plain words for a refusal: every problem code (docs/api-errors.md) has a message in both
// translation files ("problem.<CODE>"), with the numbers behind the refusal filled in.
import { ApiProblem } from "./api";
import { has, missing, t, variants } from "./i18n";
import { FeedError } from "./ws";

export function explain(error: unknown): string {
  if (error instanceof ApiProblem) {
    const { code } = error.problem;
    // A code raised by more than one layer may carry other numbers: the variant they fill.
    const keys = variants(`problem.${code}`);
    const fits = keys.find((key) => missing(key, error.problem).length === 0);
    if (fits ?? keys[0]) return t((fits ?? keys[0])!, error.problem);
    if (code.startsWith("HTTP_")) return t("problem.HTTP", { status: error.status });
    return t("problem.other", { code });
  }
  if (error instanceof FeedError) {
    return has(`problem.${error.code}`) ? t(`problem.${error.code}`) : t("problem.other", { code: error.code });
  }
  return t("problem.unexpected");
}
