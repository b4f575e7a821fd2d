import { Alert, Anchor, Button, Group, NumberInput, Paper, Table, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useState } from "react";
import { Link, useParams } from "react-router";

import { EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatBytes, formatDateTime } from "@/lib/format";
import { paths } from "@/lib/paths";
import { useAllowed } from "@/lib/session";

import {
  SUBSETS,
  useCreateDatasetRevision,
  useDatasetRevisions,
  type DatasetRevision,
  type RevisionSubset,
  type SplitRatios,
} from "../api/datasetRevisions";

/** The server's default split of new items, in percent. */
const DEFAULT_SPLIT: SplitRatios = { training: 70, validation: 20, testing: 10 };

function LabelCounts({ revision }: { revision: DatasetRevision }) {
  return (
    <Text size="xs">
      {revision.label_counts
        .map((count) => `${count.label_name} ${count.items}${count.shapes !== count.items ? ` (${count.shapes} shapes)` : ""}`)
        .join(" · ") || "—"}
    </Text>
  );
}

/** The split of the items that have no subset yet (in percent), and the button that makes the revision. */
function NewRevisionForm({ pending, onCreate }: { pending: boolean; onCreate: (ratios: SplitRatios) => void }) {
  const [split, setSplit] = useState<SplitRatios>(DEFAULT_SPLIT);
  const total = SUBSETS.reduce((sum, subset) => sum + split[subset], 0);
  const adds = Math.abs(total - 100) < 1e-9;
  return (
    <Paper withBorder p="md" mb="md" component="section" aria-labelledby="new-revision-title">
      <Title order={2} size="h4" id="new-revision-title" mb={4}>
        Make a revision
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Freezes the annotated items. Those without a subset are split as below, once and for all; the others keep
        their subset.
      </Text>
      <Group align="flex-end" gap="sm" wrap="wrap">
        {SUBSETS.map((subset) => (
          <NumberInput
            key={subset}
            label={`${subset[0]!.toUpperCase()}${subset.slice(1)} %`}
            value={split[subset]}
            onChange={(value) => setSplit((current) => ({ ...current, [subset]: typeof value === "number" ? value : 0 }))}
            min={0}
            max={100}
            decimalScale={1}
            w={130}
          />
        ))}
        <Button onClick={() => onCreate({ training: split.training / 100, validation: split.validation / 100, testing: split.testing / 100 })}
          loading={pending} disabled={!adds}>
          New dataset revision
        </Button>
      </Group>
      {!adds && (
        <Text size="sm" c="red.9" mt="xs" role="alert">
          The subsets add up to {total} %; they must add up to 100 %.
        </Text>
      )}
    </Paper>
  );
}

/** Items per label in one subset; nothing for revisions made before these counts were kept. */
function SubsetLabelCounts({ revision, subset }: { revision: DatasetRevision; subset: RevisionSubset }) {
  const counts = revision.label_counts.filter((count) => count.subsets != null && (count.subsets[subset] ?? 0) > 0);
  if (counts.length === 0) return null;
  return (
    <Text size="xs" c="dimmed" data-testid={`subset-${subset}-labels`}>
      {counts.map((count) => `${count.label_name} ${count.subsets?.[subset] ?? 0}`).join(" · ")}
    </Text>
  );
}

/** A project's dataset revisions, newest first, with items per subset, per label and per label in each subset; make a new one. */
export function DatasetRevisionsPage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Dataset revisions · ${project} · modelyard`);
  const revisions = useDatasetRevisions(project);
  const create = useCreateDatasetRevision(project);
  const mayCreate = useAllowed("write");

  return (
    <>
      <PageHeader
        title="Dataset revisions"
        description={`${project} · immutable snapshots of the annotated items, each new item given its subset once`}
      />
      {mayCreate && <NewRevisionForm pending={create.isPending} onCreate={(ratios) => create.mutate(ratios)} />}
      {create.isError && <ProblemAlert title="No revision made" error={create.error} />}
      {create.data && (
        <Alert color={create.data.reused ? "blue" : "teal"} variant="light" mb="sm" role="status" data-testid="revision-made">
          {create.data.reused
            ? `Nothing changed since revision #${create.data.number}: it is used again.`
            : `Revision #${create.data.number} made with ${create.data.item_count} items.`}{" "}
          <Anchor component={Link} to={paths.datasetRevision(project, create.data.number)}>
            Open it
          </Anchor>
        </Alert>
      )}
      {revisions.isPending && <LoadingState label="Loading the dataset revisions" />}
      {revisions.isError && <ProblemAlert title="Could not load the dataset revisions" error={revisions.error} />}
      {revisions.data?.length === 0 && (
        <EmptyState title="No dataset revision yet">
          Annotate some items, then make a revision here (training makes one too).
        </EmptyState>
      )}
      {revisions.data && revisions.data.length > 0 && (
        <Table.ScrollContainer minWidth={800}>
          <Table aria-label="Dataset revisions" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Revision</Table.Th>
                <Table.Th scope="col">Created</Table.Th>
                <Table.Th scope="col" ta="right">Items</Table.Th>
                {SUBSETS.map((subset) => (
                  <Table.Th scope="col" ta="right" key={subset} tt="capitalize">
                    {subset}
                  </Table.Th>
                ))}
                <Table.Th scope="col">Labels (items)</Table.Th>
                <Table.Th scope="col">Files</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {revisions.data.map((revision) => (
                <Table.Tr key={revision.id} data-testid="dataset-revision-row">
                  <Table.Td>
                    <Anchor component={Link} to={paths.datasetRevision(project, revision.number)}>
                      #{revision.number}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatDateTime(revision.created_at)}</Text>
                    <Text size="xs" c="dimmed">
                      by {revision.created_by}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">{revision.item_count}</Table.Td>
                  {SUBSETS.map((subset) => (
                    <Table.Td ta="right" key={subset}>
                      <Text size="sm" data-testid={`subset-${subset}`}>
                        {revision.subset_counts[subset] ?? 0}
                      </Text>
                      <SubsetLabelCounts revision={revision} subset={subset} />
                    </Table.Td>
                  ))}
                  <Table.Td>
                    <LabelCounts revision={revision} />
                  </Table.Td>
                  <Table.Td>
                    {revision.files_deleted ? (
                      <Text size="sm" c="dimmed">
                        deleted
                      </Text>
                    ) : (
                      <Group gap={4}>
                        <Text size="sm">{formatBytes(revision.size + revision.images_size)}</Text>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </>
  );
}
