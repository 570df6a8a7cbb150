import { render } from "preact";
import { App } from "./app";
import { clearSession, takeLinkLogin } from "./session";
import "./styles.css";

// A login link's key leaves the address bar first; it logs this tab in afresh.
const linked = takeLinkLogin();
if (linked) clearSession();

render(<App linked={linked} />, document.getElementById("app")!);
