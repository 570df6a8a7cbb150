import type { ComponentChildren } from "preact";

/** A titled box of the screen; ``name`` names it for the stylesheet's grid and for tests. */
export function Panel(props: { name: string; title: string; extra?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class={`panel panel-${props.name}`} data-testid={`panel-${props.name}`} aria-label={props.title}>
      <header class="panel-head">
        <h2>{props.title}</h2>
        {props.extra}
      </header>
      <div class="panel-body">{props.children}</div>
    </section>
  );
}

/** A table that scrolls inside its panel (down, or only across with ``across``): reachable by
 * keyboard (Tab, then the arrow keys scroll it) and named for screen readers. */
export function Scroll(props: { label: string; across?: boolean; children: ComponentChildren }) {
  return (
    <div class={props.across ? "scroll-x" : "scroll"} tabIndex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}
