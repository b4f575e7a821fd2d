import { Anchor, Badge, Button, Checkbox, List, Paper, SimpleGrid, Stack, Table, Tabs, Text, Title } from "@mantine/core";
import { useDisclosure, useDocumentTitle } from "@mantine/hooks";
import { useState } from "react";
import { Link, useParams } from "react-router";

import { asProblem } from "@/api";
import { ConfirmDeleteModal, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatBytes, formatDateTime, plural } from "@/lib/format";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useAllowed } from "@/lib/session";

import {
  parquetUrl,
  SUBSETS,
  useDatasetRevision,
  useDeleteRevisionFiles,
  useRevisionItems,
  type RevisionSubset,
} from "../api/datasetRevisions";

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="lg" fw={700} data-testid={`stat-${label.toLowerCase()}`}>
        {value}
      </Text>
    </Paper>
  );
}

function SubsetItems({ project, revision, subset, active }: { project: string; revision: string; subset: RevisionSubset; active: boolean }) {
  const items = useRevisionItems(project, revision, subset, active);
  if (items.isPending) return <LoadingState label={`Reading the ${subset} items`} />;
  if (items.isError) return <ProblemAlert title={`Could not read the ${subset} items`} error={items.error} />;
  const rows = keysetItems(items.data);
  if (rows.length === 0) return <Text size="sm" c="dimmed">No item in this subset.</Text>;
  return (
    <Stack gap="xs">
      <Table aria-label={`${subset} items`} striped data-testid={`items-${subset}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Item</Table.Th>
            <Table.Th scope="col">Size</Table.Th>
            <Table.Th scope="col">Labels</Table.Th>
            <Table.Th scope="col">Shapes</Table.Th>
            <Table.Th scope="col">Reviewed</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.item_id}>
              <Table.Td>
                <Anchor component={Link} to={paths.annotate(project, row.item_id)} ff="monospace" size="sm">
                  {row.item_id.slice(0, 10)}
                </Anchor>
              </Table.Td>
              <Table.Td>
                {row.width}×{row.height}
              </Table.Td>
              <Table.Td>{row.label_names.join(", ") || "—"}</Table.Td>
              <Table.Td>{row.boxes.length + row.polygons.length || "—"}</Table.Td>
              <Table.Td>{row.user_reviewed ? "yes" : ""}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {items.hasNextPage && (
        <Button variant="default" size="xs" onClick={() => void items.fetchNextPage()} loading={items.isFetchingNextPage}>
          Load more
        </Button>
      )}
    </Stack>
  );
}

/** One dataset revision: counts, labels, its items by subset (read from its Parquet file), download, delete files. */
export function DatasetRevisionPage() {
  const { project = "", revision: number = "" } = useParams();
  useDocumentTitle(`Dataset revision #${number} · ${project} · modelyard`);
  const revision = useDatasetRevision(project, number);
  const remove = useDeleteRevisionFiles(project, number);
  const mayDelete = useAllowed("admin");
  const [deleting, deleteModal] = useDisclosure();
  const [force, setForce] = useState(false);
  const [tab, setTab] = useState<string | null>("training");

  if (revision.isPending) return <LoadingState label="Loading the dataset revision" />;
  if (revision.isError) return <ProblemAlert title={`Could not load dataset revision #${number}`} error={revision.error} />;
  const current = revision.data;
  const blockers = remove.isError ? asProblem(remove.error).document.blockers : undefined;

  return (
    <>
      <PageHeader
        title={`Dataset revision #${current.number}`}
        description={`${project} · made ${formatDateTime(current.created_at)} by ${current.created_by}`}
        actions={
          <>
            {!current.files_deleted && (
              <Button component="a" href={parquetUrl(project, current.id)} download="data.parquet" variant="default">
                Download data.parquet
              </Button>
            )}
            {mayDelete && !current.files_deleted && (
              <Button color="red" variant="outline" onClick={deleteModal.open}>
                Delete files
              </Button>
            )}
          </>
        }
      />
      <Stack gap="lg">
        {current.files_deleted && (
          <Badge color="gray" variant="light" size="lg">
            files deleted {formatDateTime(current.files_deleted_at)}: the record stays
          </Badge>
        )}
        <SimpleGrid cols={{ base: 2, sm: 5 }}>
          <Stat label="Items" value={current.item_count} />
          {SUBSETS.map((subset) => (
            <Stat key={subset} label={subset} value={current.subset_counts[subset] ?? 0} />
          ))}
          <Stat label="Size" value={formatBytes(current.size + current.images_size)} />
        </SimpleGrid>
        <section aria-labelledby="revision-labels">
          <Title order={2} size="h4" id="revision-labels" mb="xs">
            Labels
          </Title>
          <Table aria-labelledby="revision-labels" maw={760}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Label</Table.Th>
                <Table.Th scope="col" ta="right">Items</Table.Th>
                {SUBSETS.map((subset) => (
                  <Table.Th scope="col" ta="right" key={subset} tt="capitalize">
                    {subset}
                  </Table.Th>
                ))}
                <Table.Th scope="col" ta="right">Shapes</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {current.label_counts.map((count) => (
                <Table.Tr key={count.label_id} data-testid="revision-label-row">
                  <Table.Td>{count.label_name}</Table.Td>
                  <Table.Td ta="right">{count.items}</Table.Td>
                  {SUBSETS.map((subset) => (
                    <Table.Td ta="right" key={subset} data-testid={`label-${subset}`}>
                      {count.subsets ? (count.subsets[subset] ?? 0) : "—"}
                    </Table.Td>
                  ))}
                  <Table.Td ta="right">{count.shapes}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
        {!current.files_deleted && (
          <section aria-labelledby="revision-items">
            <Title order={2} size="h4" id="revision-items" mb="xs">
              Items by subset
            </Title>
            <Tabs value={tab} onChange={setTab} keepMounted={false}>
              <Tabs.List>
                {SUBSETS.map((subset) => (
                  <Tabs.Tab key={subset} value={subset} tt="capitalize">
                    {subset} ({current.subset_counts[subset] ?? 0})
                  </Tabs.Tab>
                ))}
              </Tabs.List>
              {SUBSETS.map((subset) => (
                <Tabs.Panel key={subset} value={subset} pt="sm">
                  <SubsetItems project={project} revision={current.id} subset={subset} active={tab === subset} />
                </Tabs.Panel>
              ))}
            </Tabs>
          </section>
        )}
      </Stack>
      <ConfirmDeleteModal
        opened={deleting}
        onClose={() => {
          remove.reset();
          setForce(false);
          deleteModal.close();
        }}
        subject={`the files of dataset revision #${current.number}`}
        consequences={[
          `data.parquet (${formatBytes(current.size)})`,
          `the images only this revision still keeps (of ${plural(current.item_count, "item")})`,
          "the record, its counts and its lineage stay",
        ]}
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(force, { onSuccess: () => deleteModal.close() })}
      >
        {Array.isArray(blockers) && (
          <Paper withBorder p="sm" data-testid="delete-blockers">
          <Text size="sm" fw={600}>
            Needed by:
          </Text>
          <List size="sm">
            {blockers.map((blocker) => (
              <List.Item key={String(blocker)}>{String(blocker)}</List.Item>
            ))}
          </List>
          <Checkbox mt="xs" label="Delete anyway (those model revisions cannot be retrained or re-evaluated)" checked={force}
            onChange={(event) => setForce(event.currentTarget.checked)} />
          </Paper>
        )}
      </ConfirmDeleteModal>
    </>
  );
}
