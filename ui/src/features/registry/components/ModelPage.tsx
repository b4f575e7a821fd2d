import { Anchor, Badge, Button, Paper, SimpleGrid, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link, useNavigate, useParams } from "react-router";

import { DataTable, EmptyState, LoadingState, PageHeader, ProblemAlert, type Column } from "@/components";
import { formatDateTime } from "@/lib/format";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useSortParam } from "@/lib/useSearchState";

import {
  useHolders,
  useRegisteredModel,
  useUpdateModel,
  useVersions,
  type ModelVersion,
} from "../api/registry";
import { AliasMover } from "./AliasMover";
import { NameChips, StageBadge } from "./Chips";
import { HoldersCard } from "./HoldersCard";
import { DescriptionEditor, MetadataEditor, TagsAndLabelsEditor } from "./ModelEditors";

function metricsText(metrics: Record<string, number>): string {
  const entries = Object.entries(metrics);
  return entries.length ? entries.map(([name, value]) => `${name} ${Number(value.toFixed(4))}`).join(", ") : "—";
}

/** Where a version came from: the project's revision, linked, or an upload. */
export function SourceLink({ version }: { version: ModelVersion }) {
  const projectId = typeof version.source.project_id === "string" ? version.source.project_id : null;
  if (!version.source_revision_id || !projectId) return <Text span size="sm" c="dimmed">uploaded</Text>;
  return (
    <Anchor component={Link} to={paths.revision(projectId, version.source_revision_id)} size="sm" data-testid="source-revision">
      revision {version.source_revision_id.slice(0, 8)}
    </Anchor>
  );
}

function versionColumns(model: string): Column<ModelVersion>[] {
  return [
    {
      key: "number",
      header: "Version",
      sortKey: "number",
      width: 90,
      render: (version) => (
        <Anchor component={Link} to={paths.registeredVersion(model, version.number)} fw={600}>
          {version.number}
        </Anchor>
      ),
    },
    { key: "name", header: "Name", render: (version) => version.name || "—" },
    { key: "framework", header: "Framework", render: (version) => version.framework },
    { key: "task", header: "Task", render: (version) => version.task_type ?? "—" },
    { key: "labels", header: "Labels", align: "right", render: (version) => Object.keys(version.label_map).length },
    { key: "metrics", header: "Metrics", render: (version) => <Text size="sm" lineClamp={1}>{metricsText(version.metrics)}</Text> },
    { key: "stage", header: "Stage", render: (version) => <StageBadge stage={version.stage} /> },
    { key: "aliases", header: "Aliases", render: (version) => <NameChips names={version.aliases.map((a) => `@${a}`)} testId="alias-chip" /> },
    { key: "source", header: "Source", render: (version) => <SourceLink version={version} /> },
  ];
}

/** One registered model: what it is (editable), who holds its aliases and stages, and its versions. */
export function ModelPage() {
  const { name = "" } = useParams();
  useDocumentTitle(`${name} · registry · modelyard`);
  const navigate = useNavigate();
  const model = useRegisteredModel(name);
  const holders = useHolders(name, null);
  const [sort, setSort] = useSortParam({ key: "number", order: "desc" }, ["number"]);
  const versions = useVersions(name, sort.order);
  const archive = useUpdateModel(name);

  if (model.isPending) return <LoadingState label="Loading the registered model" />;
  if (model.isError) return <ProblemAlert title={`Could not load registered model ${name}`} error={model.error} />;
  const current = model.data;
  const rows = keysetItems(versions.data);

  return (
    <>
      <PageHeader
        title={current.name}
        description={
          <>
            {current.num_versions} versions · updated {formatDateTime(current.updated_at)} by {current.updated_by}
            {current.archived && (
              <Badge ml="xs" color="gray">
                archived
              </Badge>
            )}
          </>
        }
        actions={
          <>
            <Button variant="default" component={Link} to={paths.registryHistory(name)}>
              History
            </Button>
            <Button
              variant="default"
              loading={archive.isPending}
              onClick={() => archive.mutate({ archived: !current.archived })}
            >
              {current.archived ? "Unarchive" : "Archive"}
            </Button>
          </>
        }
      />
      {archive.isError && <ProblemAlert title="Could not change the archived flag" error={archive.error} />}
      {holders.isPending ? (
        <LoadingState label="Loading aliases and stages" />
      ) : holders.isError ? (
        <ProblemAlert title="Could not load aliases and stages" error={holders.error} />
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
          <HoldersCard model={name} holders={holders.data} title="Aliases and stages" />
          <Paper withBorder p="md">
            <AliasMover model={name} aliases={holders.data.aliases} />
          </Paper>
        </SimpleGrid>
      )}
      <Title order={2} size="h3" mb="xs">
        Versions
      </Title>
      {versions.isPending ? (
        <LoadingState label="Loading versions" />
      ) : versions.isError ? (
        <ProblemAlert title="Could not load the versions" error={versions.error} />
      ) : (
        <DataTable
          label="Versions"
          rows={rows}
          columns={versionColumns(name)}
          rowKey={(version) => version.id}
          sort={sort}
          onSortChange={setSort}
          hasMore={versions.hasNextPage}
          loadingMore={versions.isFetchingNextPage}
          onLoadMore={() => void versions.fetchNextPage()}
          loadOnScroll
          onRowOpen={(version) => navigate(paths.registeredVersion(name, version.number))}
          maxHeight={480}
          empty={<EmptyState title="No versions yet">Register a trained revision or upload files with the SDK or CLI.</EmptyState>}
        />
      )}
      <Paper withBorder p="md" mt="md">
        <Title order={2} size="h3" mb="xs">
          About this model
        </Title>
        <SimpleGrid cols={{ base: 1, md: 3 }} spacing="lg">
          <DescriptionEditor key={current.description} model={current} />
          <MetadataEditor model={current} />
          <TagsAndLabelsEditor model={current} />
        </SimpleGrid>
      </Paper>
    </>
  );
}
