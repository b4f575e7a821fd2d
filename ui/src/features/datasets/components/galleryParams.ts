import { useMemo } from "react";
import { useSearchParams } from "react-router";

import { useSortParam } from "@/lib/useSearchState";

import { SORTS, SUBSETS, type ItemFilters, type Listing, type SortKey, type Subset } from "../api/gallery";

/** A yes/no filter in the URL: "yes", "no", or absent (either). */
function yesNo(value: string | null): boolean | undefined {
  return value === "yes" ? true : value === "no" ? false : undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A day (YYYY-MM-DD) as the instant it starts, in UTC; `next` gives the start of the day after. */
export function dayStart(day: string | null, next = false): string | undefined {
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const start = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(start)) return undefined;
  return new Date(start + (next ? DAY_MS : 0)).toISOString();
}

const DEFAULT_SORT = { key: "uploaded_at", order: "asc" } as const;

/** The filters an address names (see `useGalleryParams`); unknown or malformed values are left out. */
function filtersOf(params: URLSearchParams): ItemFilters {
  const filters: ItemFilters = {};
  const annotated = yesNo(params.get("annotated"));
  if (annotated !== undefined) filters.annotated = annotated;
  const reviewed = yesNo(params.get("reviewed"));
  if (reviewed !== undefined) filters.user_reviewed = reviewed;
  const label = params.get("label");
  if (label) filters.label = label;
  const subset = params.get("subset");
  if (subset && (SUBSETS as string[]).includes(subset)) filters.subset = subset as Subset;
  const after = dayStart(params.get("from"));
  if (after) filters.uploaded_after = after;
  const before = dayStart(params.get("to"), true);
  if (before) filters.uploaded_before = before;
  const name = params.get("name");
  if (name) filters.name = name;
  return filters;
}

/** The listing an address asks for, read outside React (the route's loader asks for its first page early). */
export function listingOf(params: URLSearchParams): Listing {
  const raw = params.get("sort");
  const key = raw?.replace(/^-/, "") ?? "";
  const sort = (SORTS as readonly string[]).includes(key)
    ? { key: key as SortKey, order: raw?.startsWith("-") ? ("desc" as const) : ("asc" as const) }
    : DEFAULT_SORT;
  return { filters: filtersOf(params), sort: sort.key, order: sort.order };
}

/**
 * The gallery's filters and sort, kept in the URL so a view can be shared:
 * ?annotated=yes&reviewed=no&label=cat&subset=training&from=2026-01-01&to=2026-01-31&name=img&sort=-name
 */
export function useGalleryParams() {
  const [params] = useSearchParams();
  const [sort, setSort] = useSortParam(DEFAULT_SORT, SORTS);
  const annotated = params.get("annotated");
  const reviewed = params.get("reviewed");
  const label = params.get("label");
  const subset = params.get("subset");
  const from = params.get("from");
  const to = params.get("to");
  const name = params.get("name");
  const listing: Listing = useMemo(() => {
    const named = new URLSearchParams();
    for (const [key, value] of Object.entries({ annotated, reviewed, label, subset, from, to, name })) {
      if (value !== null) named.set(key, value);
    }
    return { filters: filtersOf(named), sort: sort.key as SortKey, order: sort.order };
  }, [annotated, reviewed, label, subset, from, to, name, sort.key, sort.order]);
  return { listing, raw: { annotated, reviewed, label, subset, from, to, name }, sort, setSort };
}
