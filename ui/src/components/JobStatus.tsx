import { Badge, Group, Progress, Text } from "@mantine/core";
import type { CSSProperties } from "react";

import type { Job, JobStatus } from "@/lib/jobs";

const COLORS: Record<JobStatus, string> = {
  pending: "gray",
  running: "blue",
  cancelling: "orange",
  succeeded: "green",
  failed: "red",
  cancelled: "gray",
};

/** A job's status as a coloured word (the colour is never the only sign). */
export function JobStatusBadge({ status }: { status: JobStatus }) {
  return (
    <Badge
      color={COLORS[status]}
      variant="light"
      // Dark text on the light tint: readable (4.5:1) whatever the colour.
      style={{ "--badge-color": "var(--mantine-color-dark-9)" } as CSSProperties}
      data-testid="job-status"
    >
      {status}
    </Badge>
  );
}

/** Progress in percent with the step the job is at. */
export function JobProgress({ job, withStep = true }: { job: Job; withStep?: boolean }) {
  const percent = Math.round(job.progress);
  return (
    <Group gap="xs" wrap="nowrap" miw={160}>
      <Progress
        value={job.progress}
        w={100}
        color={COLORS[job.status]}
        aria-label={`Progress of job ${job.id}`}
        animated={job.status === "running"}
      />
      <Text size="sm" data-testid="job-progress">
        {percent}%{withStep && job.step ? ` · ${job.step}` : ""}
      </Text>
    </Group>
  );
}
