/**
 * @internal A list that shows its first items and a button for the rest: a checkpoint of a long
 * session lists hundreds of files and commands, which would make the page thousands of pixels tall.
 */
import { useState, type ReactNode } from 'react';

/** @internal Items shown before "Show all". */
export const SHOWN_ITEMS = 12;

/** @internal `items` rendered by `render`, the first {@link SHOWN_ITEMS} until "Show all N" is pressed. */
export function LongList<T>({
  items,
  render,
  className = 'dgi-items',
}: {
  items: readonly T[];
  render(item: T, index: number): ReactNode;
  className?: string;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? items : items.slice(0, SHOWN_ITEMS);
  return (
    <>
      <ul className={className}>{shown.map(render)}</ul>
      {items.length > SHOWN_ITEMS && (
        <button type="button" className="dgi-link" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${items.length}`}
        </button>
      )}
    </>
  );
}
