// A tiny path router under /ui/: /ui/ (log in), /ui/trade (trainees), /ui/instructor.
// The gateway answers every /ui/ path with index.html (exchange/api/ui.py), so links survive a
// reload.
export type Route = "login" | "trade" | "instructor";
const BASE = "/ui/";

export function currentRoute(): Route {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
  const first = rest.split("/")[0];
  return first === "trade" || first === "instructor" ? first : "login";
}

export function navigate(route: Route): void {
  const path = route === "login" ? BASE : BASE + route;
  if (location.pathname !== path) history.pushState(null, "", path);
  window.dispatchEvent(new Event("carbonx:navigate"));
}

export function onNavigate(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener("carbonx:navigate", listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener("carbonx:navigate", listener);
  };
}
