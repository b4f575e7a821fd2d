import type { ItemFilters } from "../api/gallery";

/**
 * The gallery's selection: either the items named in `ids`, or (`all`) every item that matches the listing's
 * filter except those named in `ids`. Selecting every match never needs the ids of 100,000 items.
 */
export interface Selection {
  all: boolean;
  ids: ReadonlySet<string>;
}

export const NOTHING_SELECTED: Selection = { all: false, ids: new Set() };

export function isSelected(selection: Selection, id: string): boolean {
  return selection.all ? !selection.ids.has(id) : selection.ids.has(id);
}

export function selectedCount(selection: Selection, total: number): number {
  return selection.all ? Math.max(0, total - selection.ids.size) : selection.ids.size;
}

/** Marks the items selected (or not), whatever they were. */
export function withItems(selection: Selection, ids: string[], selected: boolean): Selection {
  const next = new Set(selection.ids);
  // In "all" mode `ids` lists the exceptions, so selecting removes from it.
  const add = selection.all ? !selected : selected;
  ids.forEach((id) => (add ? next.add(id) : next.delete(id)));
  return { all: selection.all, ids: next };
}

/** The selection as the bulk request names it. */
export function selectionRequest(selection: Selection, filters: ItemFilters): { ids: string[] } | { filter: ItemFilters; exclude: string[] } {
  return selection.all ? { filter: filters, exclude: [...selection.ids] } : { ids: [...selection.ids] };
}
