import { Anchor, Badge, Button, Group, Paper, Progress, ScrollArea, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";

import { EChart, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { curvesOption, epochRecords } from "@/lib/curves";
import { formatDateTime } from "@/lib/format";
import { paths } from "@/lib/paths";
import { useEventStream } from "@/lib/useEventStream";

import { trainingKeys } from "../api/keys";
import { useCancelJob, useJob, useJobMetrics, type Job } from "../api/training";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const LOG_LINES_KEPT = 200;

/** Time left, from the share done and the time spent so far (the whole job: training, export, evaluation). */
function eta(job: Job, now: number): string {
  if (FINISHED.has(job.status) || !job.started_at || job.progress <= 0) return "—";
  const spent = (now - new Date(job.started_at).getTime()) / 1000;
  const left = (spent * (100 - job.progress)) / job.progress;
  return left < 60 ? `${Math.round(left)} s` : `${Math.floor(left / 60)} min ${Math.round(left % 60)} s`;
}

function statusColor(status: string): string {
  return { succeeded: "green", failed: "red", cancelled: "gray", cancelling: "orange" }[status] ?? "blue";
}

/** A training job as it runs: progress, ETA, loss and validation curves, the log's tail; cancel. */
export function TrainingJobPage() {
  const { project = "", jobId = "" } = useParams();
  useDocumentTitle(`Training job · ${project} · modelyard`);
  const client = useQueryClient();
  const job = useJob(jobId);
  const metrics = useJobMetrics(jobId);
  const cancel = useCancelJob(jobId);
  const [lines, setLines] = useState<string[]>([]);
  const [now, setNow] = useState(() => Date.now());
  const finished = job.data ? FINISHED.has(job.data.status) : false;

  const statusStream = useEventStream(job.data && !finished ? `/api/v1/jobs/${encodeURIComponent(jobId)}/events` : null, {
    status: (data) => {
      const next = data as Job;
      client.setQueryData(trainingKeys.detail("job", jobId), next);
      setNow(Date.now());
      return FINISHED.has(next.status) ? true : undefined;
    },
    metrics: (data) => {
      client.setQueryData(trainingKeys.detail("job", jobId, "metrics"), (current: unknown[] | undefined) => [...(current ?? []), data]);
      return undefined;
    },
  });
  useEventStream(`/api/v1/jobs/${encodeURIComponent(jobId)}/logs`, {
    log: (line) => {
      setLines((current) => [...current, String(line)].slice(-LOG_LINES_KEPT));
      return undefined;
    },
    end: () => true,
  });
  const records = useMemo(() => epochRecords(metrics.data ?? []), [metrics.data]);
  const option = useMemo(() => curvesOption([{ name: "training", records }]), [records]);

  if (job.isPending) return <LoadingState label="Loading the job" />;
  if (job.isError) return <ProblemAlert title={`Could not load job ${jobId}`} error={job.error} />;
  const current = job.data;
  const revisionId = typeof current.result?.revision_id === "string" ? current.result.revision_id : null;

  return (
    <>
      <PageHeader
        title="Training job"
        description={
          <>
            Job {current.id} of project {project} · {current.params.architecture as string} · started{" "}
            {formatDateTime(current.started_at)} ·{" "}
            <Anchor component={Link} to={paths.job(current.id)} underline="always">
              on the jobs page
            </Anchor>
          </>
        }
        actions={
          <Button color="red" variant="outline" disabled={finished || current.status === "cancelling"} loading={cancel.isPending} onClick={() => cancel.mutate()}>
            Cancel training
          </Button>
        }
      />
      <Stack gap="md">
        {cancel.isError && <ProblemAlert title="The job was not cancelled" error={cancel.error} />}
        <Paper withBorder p="md">
          <Group justify="space-between" mb="xs">
            <Group gap="xs">
              <Badge color={statusColor(current.status)} variant="light" c="dark.7" data-testid="job-status">
                {current.status}
              </Badge>
              <Text size="sm">{current.step}</Text>
            </Group>
            <Text size="sm" data-testid="job-eta">
              ETA {eta(current, now)}
            </Text>
          </Group>
          <Progress value={current.progress} aria-label="Training progress" data-testid="job-progress" animated={!finished} />
          <Text size="sm" c="dimmed" mt="xs">
            {Math.round(current.progress)}% {current.message && `· ${current.message}`}
            {!finished && statusStream !== "open" && ` · live updates ${statusStream}`}
          </Text>
          {current.error && (
            <Text c="red.9" size="sm" mt="xs" role="alert">
              {current.error}
            </Text>
          )}
          {revisionId && (
            <Anchor component={Link} to={paths.revision(project, revisionId)} mt="xs" display="inline-block">
              Open the trained revision
            </Anchor>
          )}
        </Paper>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="xs">
              Loss and validation metric
            </Title>
            {records.length === 0 ? (
              <Text size="sm" c="dimmed">
                The curves appear when the first epoch ends.
              </Text>
            ) : (
              <EChart option={option} label="Training loss and validation metric per epoch" testId="training-curves" />
            )}
            <Table mt="sm" aria-label="Epochs" data-testid="epochs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Epoch</Table.Th>
                  <Table.Th scope="col">Training loss</Table.Th>
                  <Table.Th scope="col">Validation</Table.Th>
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
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="xs">
              Log
            </Title>
            <ScrollArea h={320} type="auto" viewportProps={{ tabIndex: 0, "aria-label": "Job log" }}>
              <Text component="pre" size="xs" ff="monospace" m={0} role="log" data-testid="job-log">
                {lines.join("\n") || "No lines yet."}
              </Text>
            </ScrollArea>
          </Paper>
        </SimpleGrid>
      </Stack>
    </>
  );
}
