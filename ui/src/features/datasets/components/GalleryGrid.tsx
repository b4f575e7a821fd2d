import { Badge, Group, Skeleton, Text } from "@mantine/core";
import { useDebouncedValue, useElementSize, useMergedRef } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef, type KeyboardEvent, type MouseEvent } from "react";

import { cachedPage, PAGE_SIZE, thumbnailUrl, useVisiblePages, type Item, type Listing } from "../api/gallery";
import classes from "./GalleryGrid.module.css";

const TILE_WIDTH = 160;
const TILE_HEIGHT = 204;
const GAP = 8;
/** How long the view must rest on a page before it is fetched: a page scrolled past is never asked for. */
const SETTLE_MS = 150;

export interface GridProps {
  project: string;
  listing: Listing;
  total: number;
  cursors: (string | null)[] | undefined;
  isSelected: (id: string) => boolean;
  /** A tile was clicked or pressed (Space): `range` when Shift was held. */
  onActivate: (index: number, item: Item, range: boolean) => void;
}

function pagesBetween(first: number, last: number): number[] {
  const pages: number[] = [];
  for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(last / PAGE_SIZE); page += 1) pages.push(page);
  return pages;
}

function annotationSummary(item: Item): string {
  if (!item.annotated || !item.annotation) return "not annotated";
  const { labels = [], boxes = [], polygons = [] } = item.annotation;
  if (boxes.length > 0) return `${boxes.length} box${boxes.length === 1 ? "" : "es"}`;
  if (polygons.length > 0) return `${polygons.length} polygon${polygons.length === 1 ? "" : "s"}`;
  return labels.map((label) => label.name).join(", ") || "no label";
}

function Tile({ project, item, index, selected, onActivate }: { project: string; item: Item; index: number; selected: boolean; onActivate: GridProps["onActivate"] }) {
  const summary = annotationSummary(item);
  const activate = (event: MouseEvent | KeyboardEvent) => onActivate(index, item, event.shiftKey);
  return (
    <div
      role="checkbox"
      aria-checked={selected}
      aria-label={`${item.name}, ${summary}, ${item.subset}${item.user_reviewed ? ", reviewed" : ""}`}
      tabIndex={0}
      className={classes.tile}
      data-selected={selected || undefined}
      data-index={index}
      data-testid="gallery-item"
      data-name={item.name}
      onClick={activate}
      onKeyDown={(event) => {
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          activate(event);
        }
      }}
    >
      <img src={thumbnailUrl(project, item.id)} alt="" loading="lazy" decoding="async" className={classes.thumbnail} />
      <Text size="xs" truncate fw={500} mt={4}>
        {item.name}
      </Text>
      <Group gap={4} wrap="nowrap">
        <Text size="xs" c="dimmed" truncate data-testid="item-annotation">
          {summary}
        </Text>
        {item.user_reviewed && (
          <Badge size="xs" variant="light" color="gray" c="dark">
            reviewed
          </Badge>
        )}
      </Group>
    </div>
  );
}

/**
 * Thumbnails of every item of the listing in one scrolled grid: only the rows on screen are drawn, and only
 * the pages they fall in are fetched, once the view rests there. Arrow keys move between tiles.
 */
export function GalleryGrid({ project, listing, total, cursors, isSelected, onActivate }: GridProps) {
  const client = useQueryClient();
  const scroller = useRef<HTMLDivElement>(null);
  const { ref: sized, width } = useElementSize<HTMLDivElement>();
  const ref = useMergedRef(scroller, sized);
  const columns = Math.max(1, Math.floor((width + GAP) / (TILE_WIDTH + GAP)));
  const rows = Math.ceil(total / columns);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer's functions are read during render by design
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => TILE_HEIGHT + GAP,
    overscan: 1,
  });
  const virtualRows = virtualizer.getVirtualItems();
  const first = (virtualRows[0]?.index ?? 0) * columns;
  const last = Math.min(total - 1, ((virtualRows.at(-1)?.index ?? 0) + 1) * columns - 1);
  const onScreen = total > 0 ? pagesBetween(first, last) : [];
  const [settled] = useDebouncedValue(onScreen.join(","), SETTLE_MS, { leading: true });
  const wanted = settled ? settled.split(",").map(Number) : [];
  const pages = useVisiblePages(project, listing, cursors, wanted);
  const loaded = new Map<number, Item[]>();
  wanted.forEach((page, position) => {
    const items = pages[position]?.data?.items;
    if (items) loaded.set(page, items);
  });
  // Pages fetched before (scrolled back to) show at once, without waiting for the view to rest.
  const itemAt = (index: number): Item | undefined => {
    const page = Math.floor(index / PAGE_SIZE);
    const items = loaded.get(page) ?? cachedPage(client, project, listing, page);
    return items?.[index % PAGE_SIZE];
  };

  const focusTile = (index: number) => {
    const target = Math.max(0, Math.min(total - 1, index));
    virtualizer.scrollToIndex(Math.floor(target / columns), { align: "auto" });
    const tryFocus = (attempts: number) => {
      const tile = scroller.current?.querySelector<HTMLElement>(`[data-index="${target}"]`);
      if (tile) tile.focus();
      else if (attempts > 0) requestAnimationFrame(() => tryFocus(attempts - 1));
    };
    requestAnimationFrame(() => tryFocus(10));
  };
  const moves: Record<string, number> = {
    ArrowRight: 1,
    ArrowLeft: -1,
    ArrowDown: columns,
    ArrowUp: -columns,
    PageDown: columns * 3,
    PageUp: -columns * 3,
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = Number((event.target as HTMLElement).dataset.index);
    if (Number.isNaN(index)) return;
    if (event.key in moves) {
      event.preventDefault();
      focusTile(index + moves[event.key]!);
    } else if (event.key === "Home" && event.ctrlKey) {
      event.preventDefault();
      focusTile(0);
    } else if (event.key === "End" && event.ctrlKey) {
      event.preventDefault();
      focusTile(total - 1);
    }
  };

  return (
    <div ref={ref} className={classes.scroller} data-testid="gallery-scroller" role="group" aria-label={`${total} items`} onKeyDown={onKeyDown}>
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {virtualRows.map((row) => (
          <div
            key={row.key}
            className={classes.row}
            style={{ transform: `translateY(${row.start}px)`, gridTemplateColumns: `repeat(${columns}, ${TILE_WIDTH}px)`, gap: GAP }}
          >
            {Array.from({ length: columns }, (_, column) => row.index * columns + column)
              .filter((index) => index < total)
              .map((index) => {
                const item = itemAt(index);
                return item ? (
                  <Tile key={item.id} project={project} item={item} index={index} selected={isSelected(item.id)} onActivate={onActivate} />
                ) : (
                  <Skeleton key={`waiting-${index}`} w={TILE_WIDTH} h={TILE_HEIGHT} data-testid="gallery-placeholder" />
                );
              })}
          </div>
        ))}
      </div>
    </div>
  );
}
