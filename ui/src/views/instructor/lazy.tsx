// The console loads on demand, in its own chunk: a trainee's browser never downloads it.
import type { ComponentProps, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { t } from "../../i18n";
import type { Instructor as InstructorView } from "../Instructor";

type Props = ComponentProps<typeof InstructorView>;
let loaded: FunctionComponent<Props> | null = null;

export function Instructor(props: Props) {
  const [view, setView] = useState<FunctionComponent<Props> | null>(() => loaded);
  useEffect(() => {
    if (view) return;
    void import("../Instructor").then((module) => {
      loaded = module.Instructor;
      setView(() => module.Instructor);
    });
  }, []);
  const View = view;
  return View ? <View {...props} /> : <p class="muted loading">{t("app.loading")}</p>;
}
