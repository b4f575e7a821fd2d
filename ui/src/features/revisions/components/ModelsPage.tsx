import { Anchor, Button, Checkbox, Group, Select, Text } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, unwrap } from "@/api";
import { DataTable, EmptyState, LoadingState, PageHeader, ProblemAlert, type Column } from "@/components";
import { formatBytes, formatDateTime } from "@/lib/format";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useSearchParam, useSortParam, type Sort } from "@/lib/useSearchState";

import { revisionKeys } from "../api/keys";
import { useRevisions, type ModelRevision, type RevisionStatus } from "../api/revisions";
import { StatusBadge } from "./StatusBadge";

const STATUSES: RevisionStatus[] = ["running", "succeeded", "failed", "cancelled"];
const SORT_KEYS = ["created_at", "name", "architecture", "best_metric", "size"] as const;

/** Sorting within the loaded revisions for keys the API does not order by (it orders by creation). */
function sortRows(rows: ModelRevision[], sort: Sort): ModelRevision[] {
  if (sort.key === "created_at") return rows;
  const value = (row: ModelRevision): string | number =>
    sort.key === "name" ? row.name : sort.key === "architecture" ? row.architecture_id : sort.key === "size" ? (row.size_bytes ?? -1) : (row.best_metric ?? -Infinity);
  const sorted = [...rows].sort((a, b) => {
    const [left, right] = [value(a), value(b)];
    return typeof left === "string" ? left.localeCompare(String(right)) : left - Number(right);
  });
  return sort.order === "desc" ? sorted.reverse() : sorted;
}

function useDatasetNumbers(project: string) {
  return useQuery({
    queryKey: revisionKeys.list({ datasetNumbers: project }),
    queryFn: async () => {
      const revisions = await unwrap(api.GET("/api/v1/projects/{project}/dataset/revisions", { params: { path: { project } } }));
      return new Map(revisions.map((revision) => [revision.id, revision.number]));
    },
  });
}

/** The project's model revisions: filter by architecture and status, sort, pick two or more to compare. */
export function ModelsPage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Models · ${project} · modelyard`);
  const navigate = useNavigate();
  const [architecture, setArchitecture] = useSearchParam("architecture");
  const [status, setStatus] = useSearchParam("status");
  const [dataset, setDataset] = useSearchParam("dataset");
  const [sort, setSort] = useSortParam({ key: "created_at", order: "desc" }, SORT_KEYS);
  const [selected, setSelected] = useState<string[]>([]);
  const revisions = useRevisions(project, {
    ...(architecture ? { architecture } : {}),
    ...(status ? { status: status as RevisionStatus } : {}),
    ...(dataset ? { dataset_revision: dataset } : {}),
    order: sort.key === "created_at" ? sort.order : "desc",
  });
  const datasetNumbers = useDatasetNumbers(project);
  const loaded = keysetItems(revisions.data);
  const rows = useMemo(() => sortRows(loaded, sort), [loaded, sort]);
  const numbers = new Map(loaded.map((revision) => [revision.id, revision.number]));
  const architectures = [...new Set(loaded.map((revision) => revision.architecture_id).concat(architecture ? [architecture] : []))];
  const toggle = (id: string) => setSelected((current) => (current.includes(id) ? current.filter((entry) => entry !== id) : [...current, id]));

  const columns: Column<ModelRevision>[] = [
    {
      key: "select",
      header: "Compare",
      width: 80,
      render: (revision) => (
        <Checkbox
          aria-label={`Compare ${revision.name}`}
          checked={selected.includes(revision.id)}
          onChange={() => toggle(revision.id)}
          onClick={(event) => event.stopPropagation()}
        />
      ),
    },
    {
      key: "name",
      header: "Name",
      sortKey: "name",
      render: (revision) => (
        <Anchor component={Link} to={paths.revision(project, revision.id)} fw={600}>
          #{revision.number} {revision.name}
        </Anchor>
      ),
    },
    { key: "architecture", header: "Architecture", sortKey: "architecture", render: (revision) => revision.architecture_id },
    { key: "status", header: "Status", render: (revision) => <StatusBadge status={revision.status} /> },
    {
      key: "metric",
      header: "Best metric",
      sortKey: "best_metric",
      align: "right",
      render: (revision) => (revision.best_metric === null ? "—" : `${revision.metric_name} ${revision.best_metric.toFixed(3)}`),
    },
    {
      key: "dataset",
      header: "Dataset revision",
      render: (revision) => {
        const number = datasetNumbers.data?.get(revision.dataset_revision_id);
        return number === undefined ? revision.dataset_revision_id.slice(0, 8) : `#${number}`;
      },
    },
    {
      key: "parent",
      header: "Parent",
      render: (revision) =>
        revision.parent_id ? (
          <Anchor component={Link} to={paths.revision(project, revision.parent_id)} onClick={(event) => event.stopPropagation()}>
            {numbers.has(revision.parent_id) ? `#${numbers.get(revision.parent_id)}` : revision.parent_id.slice(0, 8)}
          </Anchor>
        ) : (
          revision.base
        ),
    },
    { key: "created", header: "Created", sortKey: "created_at", render: (revision) => formatDateTime(revision.created_at) },
    { key: "size", header: "Size", sortKey: "size", align: "right", render: (revision) => formatBytes(revision.size_bytes) },
  ];
  const filtered = Boolean(architecture || status || dataset);

  return (
    <>
      <PageHeader
        title="Models"
        description={`Model revisions of project ${project}: what each training produced.`}
        actions={
          <>
            <Button variant="default" disabled={selected.length < 2} onClick={() => navigate(paths.compareRevisions(project, selected))}>
              Compare {selected.length >= 2 ? selected.length : ""} selected
            </Button>
            <Button component={Link} to={paths.training(project)}>
              Train a model
            </Button>
          </>
        }
      />
      <Group mb="md" gap="sm" align="flex-end">
        <Select label="Architecture" placeholder="Any architecture" data={architectures} value={architecture} onChange={setArchitecture} clearable w={260} />
        <Select label="Status" placeholder="Any status" data={STATUSES} value={status} onChange={setStatus} clearable w={200} />
        {dataset && (
          <Button variant="light" onClick={() => setDataset(null)} aria-label="Show every dataset revision">
            Trained on dataset revision {datasetNumbers.data?.get(dataset) ?? dataset.slice(0, 8)} ×
          </Button>
        )}
        {selected.length > 0 && (
          <Text size="sm" c="dimmed">
            {selected.length} selected for comparison
          </Text>
        )}
      </Group>
      {revisions.isPending ? (
        <LoadingState label="Loading the model revisions" />
      ) : revisions.isError ? (
        <ProblemAlert title="Could not load the model revisions" error={revisions.error} />
      ) : (
        <DataTable
          label="Model revisions"
          rows={rows}
          columns={columns}
          rowKey={(revision) => revision.id}
          sort={sort}
          onSortChange={setSort}
          hasMore={revisions.hasNextPage}
          loadingMore={revisions.isFetchingNextPage}
          onLoadMore={() => void revisions.fetchNextPage()}
          onRowOpen={(revision) => navigate(paths.revision(project, revision.id))}
          empty={
            <EmptyState
              title={filtered ? "No revision matches" : "No model revisions yet"}
              action={!filtered && <Button component={Link} to={paths.training(project)}>Train the first model</Button>}
            >
              {filtered ? "Change the filters above." : "A training produces a model revision."}
            </EmptyState>
          }
        />
      )}
    </>
  );
}
