import { queryOptions, useMutation, useQueries, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import { domainKeys } from "@/lib/queryKeys";

import { datasetKeys } from "./keys";

/** An item as the listing answers it (its polygons' points are plain number arrays there). */
export type Item = Awaited<ReturnType<typeof fetchPage>>["items"][number];
export type Counts = Schema<"DatasetCounts">;
export type BulkRequest = Schema<"ItemsBulk">;
export type BulkResult = Schema<"ItemsBulkResult">;
export type Subset = Schema<"ItemRead">["subset"];
export type Project = Schema<"ProjectRead">;

export const SUBSETS: Subset[] = ["unassigned", "training", "validation", "testing"];
export const SORTS = ["uploaded_at", "name"] as const;
export type SortKey = (typeof SORTS)[number];

/** Items per page read from the server: a page is fetched when one of its items is on screen. */
export const PAGE_SIZE = 100;
const PAGE_STALE_MS = 30_000;

/** What narrows the gallery, as the API's query parameters take it (absent: any). */
export interface ItemFilters {
  annotated?: boolean;
  label?: string;
  subset?: Subset;
  user_reviewed?: boolean;
  uploaded_after?: string;
  uploaded_before?: string;
  name?: string;
}

export interface Listing {
  filters: ItemFilters;
  sort: SortKey;
  order: "asc" | "desc";
}

const projectKeys = domainKeys("projects");

/** The project (task, labels), under the projects domain's key so every page shares one copy. */
function projectQuery(project: string) {
  return queryOptions({
    queryKey: projectKeys.detail(project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}", { params: { path: { project } } })),
  });
}

export function useProject(project: string) {
  return useQuery(projectQuery(project));
}

/**
 * The cursor of every page of the listing, in one request: any page can then be read directly. `enabled`
 * false holds it back (it scans every matching item: the first page goes first, unhindered).
 */
export function useItemPages(project: string, listing: Listing, enabled = true) {
  return useQuery({
    enabled,
    queryKey: datasetKeys.list({ project, ...listing, pages: PAGE_SIZE }),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/dataset/items:pages", {
          params: { path: { project }, query: { ...listing.filters, sort: listing.sort, order: listing.order, page_size: PAGE_SIZE } },
        }),
      ),
  });
}

function pageKey(project: string, listing: Listing, page: number) {
  return datasetKeys.list({ project, ...listing, page });
}

function fetchPage(project: string, listing: Listing, cursor: string | null) {
  return unwrap(
    api.GET("/api/v1/projects/{project}/dataset/items", {
      params: {
        path: { project },
        query: { ...listing.filters, sort: listing.sort, order: listing.order, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
      },
    }),
  );
}

/**
 * The pages on screen, by number. The first page needs no cursor, so it is asked for at once, alongside
 * the cursors; the others wait for theirs.
 */
export function useVisiblePages(project: string, listing: Listing, cursors: (string | null)[] | undefined, pages: number[]) {
  return useQueries({
    queries: pages.map((page) => ({
      queryKey: pageKey(project, listing, page),
      queryFn: () => fetchPage(project, listing, page === 0 ? null : (cursors?.[page] ?? null)),
      enabled: page === 0 || cursors?.[page] !== undefined,
      staleTime: PAGE_STALE_MS,
    })),
  });
}

/**
 * Asks for what the gallery draws first (the project and the listing's first page) while the page's code is
 * still loading, so that neither waits for the other: the page then finds both in the cache.
 */
export function prefetchGallery(client: QueryClient, project: string, listing: Listing): void {
  void client.prefetchQuery(projectQuery(project));
  void client.prefetchQuery({
    queryKey: pageKey(project, listing, 0),
    queryFn: () => fetchPage(project, listing, null),
    staleTime: PAGE_STALE_MS,
  });
}

/** A page read now (cached like the visible ones): for selecting a range whose middle is off screen. */
export function readPage(client: QueryClient, project: string, listing: Listing, cursors: (string | null)[], page: number) {
  return client.fetchQuery({
    queryKey: pageKey(project, listing, page),
    queryFn: () => fetchPage(project, listing, cursors[page] ?? null),
    staleTime: PAGE_STALE_MS,
  });
}

/** A page's items if they are in the cache already (nothing is fetched). */
export function cachedPage(client: QueryClient, project: string, listing: Listing, page: number): Item[] | undefined {
  return client.getQueryData<{ items: Item[] }>(pageKey(project, listing, page))?.items;
}

export function useCounts(project: string) {
  return useQuery({
    queryKey: datasetKeys.detail(project, "counts"),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/dataset/counts", { params: { path: { project } } })),
  });
}

/** One action on many items; afterwards every listing and count of the dataset is read again. */
export function useBulkAction(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: BulkRequest) =>
      unwrap(api.POST("/api/v1/projects/{project}/dataset/items:bulk", { params: { path: { project } }, body })),
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: datasetKeys.all }),
        client.invalidateQueries({ queryKey: projectKeys.detail(project) }),
      ]),
  });
}

export function thumbnailUrl(project: string, itemId: string): string {
  return `/api/v1/projects/${encodeURIComponent(project)}/dataset/items/${encodeURIComponent(itemId)}/thumbnail`;
}
