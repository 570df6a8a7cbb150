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
