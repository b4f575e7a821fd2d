import { Alert, Anchor, Button, Code, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link, useParams } from "react-router";

import { JobProgress, JobStatusBadge, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatDateTime } from "@/lib/format";
import { isFinished, useJobLog, useLiveJob, type Job } from "@/lib/jobs";
import { paths } from "@/lib/paths";
import { useAllowed } from "@/lib/session";

import { useCancelJob, useProjectNames } from "../api/jobs";
import { JobLog } from "./JobLog";

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </Stack>
  );
}

function Json({ title, value }: { title: string; value: unknown }) {
  return (
    <section aria-label={title}>
      <Title order={2} size="h5" mb={4}>
        {title}
      </Title>
      <Code block>{JSON.stringify(value, null, 2)}</Code>
    </section>
  );
}

function Outcome({ job }: { job: Job }) {
  if (job.status === "failed")
    return (
      <Alert color="red" title="The job failed" role="alert">
        {job.error ?? job.reason ?? "no reason recorded"}
      </Alert>
    );
  if (job.status === "cancelled")
    return (
      <Alert color="gray" title="The job was cancelled">
        {job.reason ?? "cancelled on request"}
      </Alert>
    );
  return null;
}

/** One job: its progress and log live over Server-Sent Events, its parameters and result, and cancel. */
export function JobPage() {
  const { jobId = "" } = useParams();
  const { job, stream } = useLiveJob(jobId);
  const log = useJobLog(jobId);
  const cancel = useCancelJob();
  const mayCancel = useAllowed("write");
  const projectNames = useProjectNames();
  useDocumentTitle(job.data ? `${job.data.type} ${job.data.status} · modelyard` : "Job · modelyard");

  if (job.isPending) return <LoadingState label="Loading the job" />;
  if (job.isError) return <ProblemAlert title={`Could not load job ${jobId}`} error={job.error} />;
  const current = job.data;
  const projectName = current.project_id ? projectNames.data?.get(current.project_id) : undefined;
  const active = !isFinished(current.status);

  return (
    <>
      <PageHeader
        title={
          <Group gap="sm" component="span">
            <span>{current.type}</span>
            <JobStatusBadge status={current.status} />
          </Group>
        }
        description={<Code>{current.id}</Code>}
        actions={
          active &&
          mayCancel && (
            <Button
              color="red"
              variant="outline"
              onClick={() => cancel.mutate(current.id)}
              loading={cancel.isPending}
              disabled={current.status === "cancelling"}
            >
              Cancel job
            </Button>
          )
        }
      />
      <Stack gap="md">
        {cancel.isError && <ProblemAlert title="Not cancelled" error={cancel.error} />}
        <Outcome job={current} />
        <Paper withBorder p="md">
          <Stack gap="sm">
            <JobProgress job={current} withStep={false} />
            <Text size="sm" data-testid="job-step">
              {current.step || "—"}
              {current.message ? ` · ${current.message}` : ""}
            </Text>
            <Text size="xs" c="dimmed" aria-live="polite">
              {active ? (stream === "open" ? "following live" : "connecting to live updates…") : "finished"}
            </Text>
          </Stack>
        </Paper>
        <SimpleGrid cols={{ base: 2, md: 5 }}>
          <Field label="Project">
            {projectName ? (
              <Anchor component={Link} to={paths.project(projectName)}>
                {projectName}
              </Anchor>
            ) : (
              (current.project_id ?? "—")
            )}
          </Field>
          <Field label="Created">
            {formatDateTime(current.created_at)} by {current.created_by}
          </Field>
          <Field label="Started">{formatDateTime(current.started_at)}</Field>
          <Field label="Finished">{formatDateTime(current.finished_at)}</Field>
          <Field label="Last heartbeat">{formatDateTime(current.heartbeat_at)}</Field>
        </SimpleGrid>
        <JobLog lines={log.lines} following={log.stream === "open"} />
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Json title="Parameters" value={current.params} />
          {current.result && <Json title="Result" value={current.result} />}
        </SimpleGrid>
        <Anchor component={Link} to={paths.jobs()} size="sm">
          All jobs
        </Anchor>
      </Stack>
    </>
  );
}
