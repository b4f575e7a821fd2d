import { useCallback } from "react";
import { useSearchParams } from "react-router";

/**
 * A piece of page state kept in the URL's query string, so the address can be shared and reloaded:
 *   const [status, setStatus] = useSearchParam("status");   // ?status=running
 * Setting null or "" removes it. History entries are replaced, not added, for filter changes.
 */
export function useSearchParam(name: string): [string | null, (value: string | null) => void] {
  const [params, setParams] = useSearchParams();
  const set = useCallback(
    (value: string | null) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          if (value === null || value === "") next.delete(name);
          else next.set(name, value);
          return next;
        },
        { replace: true },
      ),
    [name, setParams],
  );
  return [params.get(name), set];
}

export interface Sort {
  key: string;
  order: "asc" | "desc";
}

/** The table's sort in the URL as `?sort=name` or `?sort=-name`; `fallback` when absent or not allowed. */
export function useSortParam(fallback: Sort, allowed: readonly string[]): [Sort, (sort: Sort) => void] {
  const [raw, setRaw] = useSearchParam("sort");
  const key = raw?.replace(/^-/, "") ?? "";
  const sort: Sort = allowed.includes(key) ? { key, order: raw?.startsWith("-") ? "desc" : "asc" } : fallback;
  const setSort = useCallback((next: Sort) => setRaw(next.order === "desc" ? `-${next.key}` : next.key), [setRaw]);
  return [sort, setSort];
}
