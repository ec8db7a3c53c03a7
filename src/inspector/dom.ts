/**
 * @internal The few browser APIs the inspector's components use, typed here: the package
 * compiles without the DOM library, so that its Node code cannot use browser globals by mistake
 * (and the DOM's `fetch` types do not replace Node's).
 */

/** @internal A `<dialog>` element. */
export interface DialogElementLike {
  open: boolean;
  showModal(): void;
  close(): void;
}

/** @internal An `<a>` element. */
export interface AnchorLike {
  href: string;
  download: string;
  click(): void;
  remove(): void;
}

/** @internal The page's globals. */
export interface BrowserGlobals {
  document: {
    createElement(tag: 'a'): AnchorLike;
    body: { append(node: AnchorLike): void };
    getElementById(id: string): unknown;
  };
  location: { origin: string; hash: string; pathname: string; search: string };
  history: { replaceState(data: unknown, unused: string, url: string): void };
}

/** @internal The browser's globals (call it in a browser only). */
export function browser(): BrowserGlobals {
  return globalThis as unknown as BrowserGlobals;
}

/** @internal The `value` of an `<input>` or `<select>` from its change event's target. */
export function valueOf(target: unknown): string {
  const value = (target as { value?: unknown } | null)?.value;
  return typeof value === 'string' ? value : '';
}
