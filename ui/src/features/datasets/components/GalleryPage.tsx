import { Button, Group, Stack, Text } from "@mantine/core";
import { useDocumentTitle, useHotkeys } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";

import { EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { plural } from "@/lib/format";
import { paths } from "@/lib/paths";

import { cachedPage, PAGE_SIZE, readPage, useItemPages, useProject, useVisiblePages, type Item, type ItemFilters, type Listing } from "../api/gallery";
import { BulkBar } from "./BulkBar";
import { CountsHeader } from "./CountsHeader";
import { GalleryFilters } from "./GalleryFilters";
import { GalleryGrid } from "./GalleryGrid";
import { useGalleryParams } from "./galleryParams";
import { isSelected, NOTHING_SELECTED, selectedCount, withItems, type Selection } from "./selection";

/** The gallery's filter as the editor's address takes it: next and previous stay within these items. */
function editorFilter(filters: ItemFilters): string {
  return new URLSearchParams(Object.entries(filters).map(([key, value]) => [key, String(value)])).toString();
}

/** The ids at positions first..last, from the cache, fetching the pages that are not there yet. */
async function idsBetween(
  client: ReturnType<typeof useQueryClient>,
  project: string,
  listing: Listing,
  cursors: (string | null)[],
  first: number,
  last: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(last / PAGE_SIZE); page += 1) {
    const items: Item[] = cachedPage(client, project, listing, page) ?? (await readPage(client, project, listing, cursors, page)).items;
    items.forEach((item, offset) => {
      const index = page * PAGE_SIZE + offset;
      if (index >= first && index <= last) ids.push(item.id);
    });
  }
  return ids;
}

/** A project's items as thumbnails: filters and sort in the address, selection and actions on many at once. */
export function GalleryPage() {
  const { project: name = "" } = useParams();
  useDocumentTitle(`Dataset · ${name} · modelyard`);
  const client = useQueryClient();
  const project = useProject(name);
  const { listing, sort, setSort } = useGalleryParams();
  // The first page needs no cursor: it is asked for first and drawn before the cursors come (numbering a
  // large dataset takes longer than reading its first page, and would slow it down if run alongside).
  const firstPage = useVisiblePages(name, listing, undefined, [0])[0];
  const pages = useItemPages(name, listing, firstPage !== undefined && !firstPage.isPending);
  const listingKey = JSON.stringify(listing);
  // The selection belongs to one listing: changing a filter or the sort starts a new one.
  const [state, setState] = useState<{ key: string; selection: Selection; anchor: number | null }>({
    key: listingKey,
    selection: NOTHING_SELECTED,
    anchor: null,
  });
  const current = state.key === listingKey ? state : { key: listingKey, selection: NOTHING_SELECTED, anchor: null };
  const total = pages.data?.total ?? firstPage?.data?.items.length ?? 0;
  const known = pages.data !== undefined || (firstPage?.data !== undefined && !firstPage.data.next_cursor);
  const count = selectedCount(current.selection, total);
  const update = (selection: Selection, anchor: number | null) => setState({ key: listingKey, selection, anchor });
  const selectAll = () => update({ all: true, ids: new Set() }, null);
  const clear = () => update(NOTHING_SELECTED, null);
  useHotkeys([
    ["mod+A", selectAll],
    ["Escape", clear],
  ]);

  const onActivate = (index: number, item: Item, range: boolean) => {
    const { selection, anchor } = current;
    if (!range || anchor === null || !pages.data) {
      update(withItems(selection, [item.id], !isSelected(selection, item.id)), index);
      return;
    }
    const [first, last] = anchor < index ? [anchor, index] : [index, anchor];
    void idsBetween(client, name, listing, pages.data.cursors, first, last).then((ids) =>
      setState((latest) => (latest.key === listingKey ? { ...latest, selection: withItems(latest.selection, ids, true), anchor: index } : latest)),
    );
  };

  if (project.isPending) return <LoadingState label="Loading the project" />;
  if (project.isError) return <ProblemAlert title={`Could not load project ${name}`} error={project.error} />;

  return (
    <>
      <PageHeader
        title="Dataset"
        description={`The images of project ${name}: filter, select (click, Shift+click, ${navigator.platform.startsWith("Mac") ? "⌘" : "Ctrl"}+A) and act on many at once.`}
        actions={
          <>
            <Button component={Link} to={paths.datasetUpload(name)}>
              Upload images
            </Button>
            <Button component={Link} to={paths.annotate(name, undefined, editorFilter(listing.filters))} variant="default">
              Annotate
            </Button>
            <Button component={Link} to={paths.datasetTransfer(name)} variant="default">
              Import & export
            </Button>
          </>
        }
      />
      <Stack gap="sm">
        <CountsHeader project={name} />
        <GalleryFilters project={project.data} sort={sort} onSort={setSort} />
        <Group gap="xs">
          <Text size="sm" data-testid="matching-count">
            {pages.data ? `${plural(total, "item")} match` : "Counting…"}
          </Text>
          <Button size="xs" variant="default" onClick={selectAll} disabled={!pages.data || total === 0}>
            Select all {total > 0 ? total.toLocaleString() : ""} matching
          </Button>
          <Button size="xs" variant="subtle" onClick={clear} disabled={count === 0}>
            Clear selection
          </Button>
        </Group>
        <BulkBar project={project.data} filters={listing.filters} selection={current.selection} count={count} onDone={clear} />
        {pages.isError && <ProblemAlert title="Could not list the items" error={pages.error} />}
        {!known && total === 0 && !pages.isError && <LoadingState label="Listing the items" />}
        {known && total === 0 && (
          <EmptyState
            title={Object.keys(listing.filters).length > 0 ? "No item matches these filters" : "No images yet"}
            action={
              <Button component={Link} to={paths.datasetUpload(name)} variant="light">
                Upload images
              </Button>
            }
          >
            Upload images or import a labelled dataset; clear the filters to see every item.
          </EmptyState>
        )}
        {total > 0 && (
          <GalleryGrid
            project={name}
            listing={listing}
            total={total}
            cursors={pages.data?.cursors}
            isSelected={(id) => isSelected(current.selection, id)}
            onActivate={onActivate}
          />
        )}
      </Stack>
    </>
  );
}
