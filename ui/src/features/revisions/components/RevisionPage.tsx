import { Anchor, Badge, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useMemo, useState, type ReactNode } from "react";
import { Link, useParams } from "react-router";

import { EChart, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { curvesOption, epochRecords } from "@/lib/curves";
import { formatBytes, formatDateTime } from "@/lib/format";
import { paths } from "@/lib/paths";

import { useDatasetRevision, useRevision, useRevisionMetrics, useVariants, type ModelRevision } from "../api/revisions";
import { EvaluationsPanel } from "./EvaluationsPanel";
import { LineagePanel } from "./LineagePanel";
import { flatten, shown } from "./perLabel";
import { OutcomeAlert, RevisionActions, type Outcome } from "./RevisionActions";
import { StatusBadge } from "./StatusBadge";
import { VariantsPanel } from "./VariantsPanel";

function duration(revision: ModelRevision): string {
  if (!revision.started_at || !revision.finished_at) return "—";
  const seconds = (new Date(revision.finished_at).getTime() - new Date(revision.started_at).getTime()) / 1000;
  return seconds < 120 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

function Curves({ revision }: { revision: ModelRevision }) {
  const running = revision.status === "running";
  const metrics = useRevisionMetrics(revision.id, revision.status === "succeeded" || running, running);
  const records = useMemo(() => epochRecords(metrics.data ?? []), [metrics.data]);
  const option = useMemo(() => curvesOption([{ name: revision.name, records }]), [records, revision.name]);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Training curves
      </Title>
      {metrics.isError ? (
        <ProblemAlert title="Could not load the curves" error={metrics.error} />
      ) : records.length === 0 ? (
        <Text size="sm" c="dimmed">
          {revision.status === "succeeded" || running ? "No epoch finished yet." : `No curves: the training ${revision.status}.`}
        </Text>
      ) : (
        <>
          <EChart option={option} label={`Training loss and validation ${revision.metric_name ?? "metric"} per epoch`} testId="revision-curves" />
          <Table aria-label="Epochs" fz="xs" data-testid="epochs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Epoch</Table.Th>
                <Table.Th scope="col">Training loss</Table.Th>
                <Table.Th scope="col">Validation</Table.Th>
                <Table.Th scope="col">Learning rate</Table.Th>
                <Table.Th scope="col">Seconds</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {records.map((record) => (
                <Table.Tr key={record.epoch}>
                  <Table.Td>{record.epoch}</Table.Td>
                  <Table.Td>{record.train_loss.toFixed(4)}</Table.Td>
                  <Table.Td>
                    {record.metric_name} {record.metric_value.toFixed(4)}
                  </Table.Td>
                  <Table.Td>{record.learning_rate?.toExponential(2) ?? "—"}</Table.Td>
                  <Table.Td>{record.seconds?.toFixed(1) ?? "—"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Paper>
  );
}

function DatasetPanel({ project, revision }: { project: string; revision: ModelRevision }) {
  const dataset = useDatasetRevision(project, revision.dataset_revision_id);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Dataset revision
      </Title>
      {dataset.isPending ? (
        <LoadingState label="Loading the dataset revision" />
      ) : dataset.isError ? (
        <ProblemAlert title="Could not load the dataset revision" error={dataset.error} />
      ) : (
        <Stack gap={4} data-testid="dataset-revision">
          <Text size="sm">
            #{dataset.data.number}: {dataset.data.item_count} items ({formatBytes(dataset.data.size + dataset.data.images_size)})
            {dataset.data.files_deleted && " · files deleted"}
          </Text>
          <Group gap="xs">
            {["training", "validation", "testing"].map((subset) => (
              <Badge key={subset} variant="light" c="indigo.9" data-testid={`subset-${subset}`}>
                {subset} {dataset.data.subset_counts[subset] ?? 0}
              </Badge>
            ))}
          </Group>
          <Anchor component={Link} to={`${paths.models(project)}?dataset=${revision.dataset_revision_id}`} size="sm">
            Every revision trained on it
          </Anchor>
        </Stack>
      )}
    </Paper>
  );
}

function Hyperparameters({ revision }: { revision: ModelRevision }) {
  const flat = flatten(revision.configuration);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Hyperparameters
      </Title>
      <Table aria-label="Hyperparameters" fz="sm" data-testid="hyperparameters">
        <Table.Tbody>
          {Object.entries(flat).map(([key, value]) => (
            <Table.Tr key={key}>
              <Table.Th scope="row">{key}</Table.Th>
              <Table.Td>{shown(value)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

/** One model revision: status and timings, curves, hyperparameters, labels, data, lineage, variants, evaluations. */
export function RevisionPage() {
  const { project = "", revisionId = "" } = useParams();
  const revision = useRevision(revisionId);
  const running = revision.data?.status === "running";
  const variants = useVariants(revisionId);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  useDocumentTitle(`${revision.data ? `#${revision.data.number} ${revision.data.name}` : "Model revision"} · ${project} · modelyard`);

  if (revision.isPending) return <LoadingState label="Loading the model revision" />;
  if (revision.isError) return <ProblemAlert title={`Could not load model revision ${revisionId}`} error={revision.error} />;
  const current = revision.data;

  return (
    <>
      <PageHeader
        title={`#${current.number} ${current.name}`}
        description={
          <>
            {current.architecture_id} · {current.task_type} ·{" "}
            <Anchor component={Link} to={paths.models(project)} underline="always">
              models of {project}
            </Anchor>
          </>
        }
        actions={<RevisionActions key={current.name} project={project} revision={current} variants={variants.data ?? []} onOutcome={setOutcome} />}
      />
      <Stack gap="md">
        {outcome && <OutcomeAlert outcome={outcome} onClose={() => setOutcome(null)} />}
        <Paper withBorder p="md">
          <SimpleGrid cols={{ base: 2, sm: 4, lg: 6 }}>
            <Fact label="Status">
              <StatusBadge status={current.status} /> {current.reason && current.reason !== current.status ? `(${current.reason})` : ""}
            </Fact>
            <Fact label="Best metric">{current.best_metric === null ? "—" : `${current.metric_name} ${current.best_metric.toFixed(4)} (epoch ${current.best_epoch})`}</Fact>
            <Fact label="Started">{formatDateTime(current.started_at)}</Fact>
            <Fact label="Finished">{formatDateTime(current.finished_at)}</Fact>
            <Fact label="Training time">{duration(current)}</Fact>
            <Fact label="Epochs">{current.epochs_trained ?? "—"}</Fact>
            <Fact label="Base">{current.base}</Fact>
            <Fact label="Device">{current.training_device ?? "—"}</Fact>
            <Fact label="Weights">{current.weights_status}</Fact>
            <Fact label="Size">{formatBytes(current.size_bytes)}</Fact>
            <Fact label="Created by">{current.created_by}</Fact>
            <Fact label="Job">
              {current.job_id ? (
                <Anchor component={Link} to={running ? paths.trainingJob(project, current.job_id) : paths.job(current.job_id)}>
                  {running ? "follow the training" : current.job_id.slice(0, 8)}
                </Anchor>
              ) : (
                "—"
              )}
            </Fact>
          </SimpleGrid>
          {current.error && (
            <Text c="red.9" size="sm" mt="sm" role="alert">
              {current.error}
            </Text>
          )}
        </Paper>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Curves revision={current} />
          <Stack gap="md">
            <DatasetPanel project={project} revision={current} />
            <Paper withBorder p="md">
              <Title order={2} size="h4" mb="xs">
                Labels
              </Title>
              <Group gap="xs" data-testid="revision-labels">
                {current.labels.map((label) => (
                  <Badge key={label.id} variant="outline" c="dark.7" tt="none" leftSection={<span aria-hidden style={{ display: "inline-block", width: 8, height: 8, borderRadius: 4, background: label.color ?? "#868e96" }} />}>
                    {label.index}: {label.name}
                  </Badge>
                ))}
              </Group>
            </Paper>
          </Stack>
        </SimpleGrid>
        <LineagePanel project={project} revision={current} />
        <VariantsPanel project={project} revision={current} />
        <EvaluationsPanel revision={current} />
        <Hyperparameters revision={current} />
      </Stack>
    </>
  );
}
