import { Button, Center, Table, Text, UnstyledButton } from "@mantine/core";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type ReactNode } from "react";

import classes from "./DataTable.module.css";

export interface Column<Row> {
  key: string;
  header: string;
  render: (row: Row) => ReactNode;
  /** The server's sort key for this column; a column without one is not sortable. */
  sortKey?: string;
  width?: number | string;
  align?: "left" | "right";
}

/** The API's `sort` and `order` parameters. */
export interface SortValue {
  key: string;
  order: "asc" | "desc";
}

interface DataTableProps<Row> {
  rows: Row[];
  columns: Column<Row>[];
  rowKey: (row: Row) => string;
  /** Accessible name of the table ("Projects"). */
  label: string;
  sort?: SortValue;
  onSortChange?: (sort: SortValue) => void;
  /** Keyset pagination: another page exists behind `cursor`; `onLoadMore` asks for it. */
  hasMore?: boolean;
  loadingMore?: boolean;
  onLoadMore?: () => void;
  /** Ask for the next page on its own when the last rows scroll into view (the button stays for the keyboard). */
  loadOnScroll?: boolean;
  /** A click on a row; its first cell holds a link too, for the keyboard, new tabs and screen readers. */
  onRowOpen?: (row: Row) => void;
  rowHeight?: number;
  /** Height of the scrolling area; rows outside it are not in the page. */
  maxHeight?: number;
  empty?: ReactNode;
}

function sortDirection(sort: SortValue | undefined, key: string): "ascending" | "descending" | "none" {
  if (sort?.key !== key) return "none";
  return sort.order === "asc" ? "ascending" : "descending";
}

/**
 * A table that renders only the rows in view (thousands stay fast), with sortable headers that name
 * the server's sort key and a "Load more" button for the next keyset page.
 */
export function DataTable<Row>({
  rows,
  columns,
  rowKey,
  label,
  sort,
  onSortChange,
  hasMore = false,
  loadingMore = false,
  onLoadMore,
  loadOnScroll = false,
  onRowOpen,
  rowHeight = 44,
  maxHeight = 640,
  empty,
}: DataTableProps<Row>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer's functions are read during render by design
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastShown = items.length > 0 ? (items[items.length - 1]?.index ?? -1) : -1;
  const nearEnd = lastShown >= rows.length - 1;
  useEffect(() => {
    if (loadOnScroll && nearEnd && hasMore && !loadingMore && rows.length > 0) onLoadMore?.();
  }, [loadOnScroll, nearEnd, hasMore, loadingMore, rows.length, onLoadMore]);
  const paddingTop = items.length > 0 ? (items[0]?.start ?? 0) : 0;
  const paddingBottom = items.length > 0 ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;

  if (rows.length === 0 && empty) return <>{empty}</>;

  return (
    <div>
      <div ref={scrollRef} className={classes.scroll} style={{ maxHeight }} data-testid="data-table">
        <Table aria-label={label} aria-rowcount={rows.length + 1} stickyHeader highlightOnHover={Boolean(onRowOpen)}>
          <Table.Thead>
            <Table.Tr>
              {columns.map((column) => {
                const direction = column.sortKey ? sortDirection(sort, column.sortKey) : "none";
                return (
                  <Table.Th
                    key={column.key}
                    style={{ width: column.width, textAlign: column.align ?? "left" }}
                    aria-sort={column.sortKey ? direction : undefined}
                    scope="col"
                  >
                    {column.sortKey && onSortChange ? (
                      <UnstyledButton
                        className={classes.sortButton}
                        onClick={() =>
                          onSortChange({ key: column.sortKey!, order: direction === "ascending" ? "desc" : "asc" })
                        }
                      >
                        {column.header}
                        <span aria-hidden className={classes.arrow}>
                          {direction === "ascending" ? "▲" : direction === "descending" ? "▼" : "↕"}
                        </span>
                      </UnstyledButton>
                    ) : (
                      column.header
                    )}
                  </Table.Th>
                );
              })}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {paddingTop > 0 && (
              <tr aria-hidden style={{ height: paddingTop }}>
                <td colSpan={columns.length} />
              </tr>
            )}
            {items.map((item) => {
              const row = rows[item.index]!;
              return (
                <Table.Tr
                  key={rowKey(row)}
                  data-index={item.index}
                  aria-rowindex={item.index + 2}
                  style={{ height: rowHeight }}
                  className={onRowOpen ? classes.clickable : undefined}
                  onClick={onRowOpen ? () => onRowOpen(row) : undefined}
                >
                  {columns.map((column) => (
                    <Table.Td key={column.key} style={{ textAlign: column.align ?? "left" }}>
                      {column.render(row)}
                    </Table.Td>
                  ))}
                </Table.Tr>
              );
            })}
            {paddingBottom > 0 && (
              <tr aria-hidden style={{ height: paddingBottom }}>
                <td colSpan={columns.length} />
              </tr>
            )}
          </Table.Tbody>
        </Table>
      </div>
      {(hasMore || loadingMore) && onLoadMore && (
        <Center mt="sm">
          <Button variant="default" onClick={onLoadMore} loading={loadingMore}>
            Load more
          </Button>
        </Center>
      )}
      {!hasMore && rows.length > 0 && (
        <Text size="xs" c="dimmed" ta="center" mt="xs">
          {rows.length === 1 ? "1 row" : `${rows.length} rows`}
        </Text>
      )}
    </div>
  );
}
