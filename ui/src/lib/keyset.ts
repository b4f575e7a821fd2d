/** A page of a keyset-paginated list as the API sends it. */
export interface KeysetPage<Item> {
  items: Item[];
  next_cursor?: string | null;
}

/**
 * Options for `useInfiniteQuery` over a keyset list: the first page has no cursor, each next one the
 * `next_cursor` of the page before; no next cursor means the end.
 *   useInfiniteQuery({ queryKey, queryFn: ({ pageParam }) => fetchPage(pageParam), ...keysetPaging })
 */
export const keysetPaging = {
  initialPageParam: null as string | null,
  getNextPageParam: <Item>(last: KeysetPage<Item>): string | null => last.next_cursor ?? null,
};

export function keysetItems<Item>(data: { pages: KeysetPage<Item>[] } | undefined): Item[] {
  return data ? data.pages.flatMap((page) => page.items) : [];
}
