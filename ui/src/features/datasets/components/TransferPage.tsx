import { Anchor, Button, FileInput, Group, Paper, Progress, Select, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { Link, useParams } from "react-router";

import { JobProgress, JobStatusBadge, PageHeader, ProblemAlert } from "@/components";
import { formatBytes } from "@/lib/format";
import { useLiveJob } from "@/lib/jobs";
import { paths } from "@/lib/paths";
import { useAllowed } from "@/lib/session";
import { useSearchParam } from "@/lib/useSearchState";

import { datasetKeys } from "../api/keys";
import {
  exportDownloadUrl,
  FORMATS,
  useDatasetRevisions,
  useStartExport,
  useStartImport,
  type DatasetFormat,
  type ExportResult,
  type ImportReport,
} from "../api/transfers";
import { ImportReportView } from "./ImportReportView";

/** A job started here, followed live; its id is in the address so the page can be reloaded or shared. */
function FollowedJob({
  jobId,
  onSucceeded,
  children,
}: {
  jobId: string;
  onSucceeded?: () => void;
  children: (result: Record<string, unknown>) => ReactNode;
}) {
  const { job } = useLiveJob(jobId);
  const status = job.data?.status;
  useEffect(() => {
    if (status === "succeeded") onSucceeded?.();
  }, [status, onSucceeded]);
  if (job.isError) return <ProblemAlert title="Could not follow the job" error={job.error} />;
  if (!job.data) return <Text size="sm">Following the job…</Text>;
  const current = job.data;
  return (
    <Stack gap="xs" data-testid="followed-job">
      <Group gap="sm">
        <JobStatusBadge status={current.status} />
        <JobProgress job={current} />
        <Anchor component={Link} to={paths.job(current.id)} size="sm">
          Job page and log
        </Anchor>
      </Group>
      {current.status === "failed" && (
        <Text size="sm" c="red.9" role="alert">
          {current.error ?? current.reason ?? "The job failed."}
        </Text>
      )}
      {current.status === "succeeded" && current.result && children(current.result)}
    </Stack>
  );
}

function ImportSection({ project }: { project: string }) {
  const client = useQueryClient();
  const start = useStartImport();
  const [jobId, setJobId] = useSearchParam("import");
  const [format, setFormat] = useState<DatasetFormat>("coco");
  const [unknownLabels, setUnknownLabels] = useState<"create" | "refuse">("create");
  const [archive, setArchive] = useState<File | null>(null);
  const [sent, setSent] = useState(0);
  // The imported items, labels and counts are read again once the job has added them.
  const refresh = useCallback(() => {
    void client.invalidateQueries({ queryKey: datasetKeys.all });
    void client.invalidateQueries({ queryKey: ["projects"] });
  }, [client]);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="import-title">
      <Title order={2} size="h4" id="import-title" mb="sm">
        Import a dataset
      </Title>
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          A zip of a dataset folder. Its images are added to this project, with their annotations and subsets; the labels it
          names that the project lacks are created, or the import is refused.
        </Text>
        <Group align="flex-end" gap="sm" wrap="wrap">
          <Select label="Format" data={FORMATS} value={format} onChange={(value) => value && setFormat(value as DatasetFormat)} allowDeselect={false} w={230} data-testid="import-format" />
          <FileInput label="Archive (.zip)" placeholder="Choose a zip" accept=".zip,application/zip" value={archive} onChange={setArchive} w={260} clearable clearButtonProps={{ "aria-label": "Clear the archive" }} data-testid="import-archive" />
          <Select
            label="Labels it names that the project lacks"
            data={[
              { value: "create", label: "Create them" },
              { value: "refuse", label: "Refuse the import" },
            ]}
            value={unknownLabels}
            onChange={(value) => value && setUnknownLabels(value as "create" | "refuse")}
            allowDeselect={false}
            w={260}
          />
          <Button
            disabled={!archive}
            loading={start.isPending}
            onClick={() =>
              archive &&
              start.mutate(
                { project, format, archive, unknownLabels, onProgress: setSent },
                { onSuccess: (job) => setJobId(job.id) },
              )
            }
          >
            Import
          </Button>
        </Group>
        {start.isPending && <Progress value={sent} aria-label="Sending the archive" />}
        {start.isError && <ProblemAlert title="The import did not start" error={start.error} />}
        {jobId && (
          <FollowedJob jobId={jobId} onSucceeded={refresh}>
            {(result) => <ImportReportView report={result as unknown as ImportReport} />}
          </FollowedJob>
        )}
      </Stack>
    </Paper>
  );
}

function ExportSection({ project }: { project: string }) {
  const revisions = useDatasetRevisions(project);
  const start = useStartExport(project);
  const [jobId, setJobId] = useSearchParam("export");
  const [format, setFormat] = useState<DatasetFormat>("coco");
  const [revision, setRevision] = useState<string>("current");
  const choices = [
    { value: "current", label: "Current data" },
    ...(revisions.data ?? [])
      .filter((entry) => !entry.files_deleted)
      .map((entry) => ({ value: entry.id, label: `Revision ${entry.number} (${entry.item_count} items)` })),
  ];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="export-title">
      <Title order={2} size="h4" id="export-title" mb="sm">
        Export
      </Title>
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          The current data, or a dataset revision exactly as it was frozen, as a zip in a format other tools read.
        </Text>
        {revisions.isError && <ProblemAlert title="Could not list the dataset revisions" error={revisions.error} />}
        <Group align="flex-end" gap="sm" wrap="wrap">
          <Select label="What" data={choices} value={revision} onChange={(value) => value && setRevision(value)} allowDeselect={false} w={260} data-testid="export-revision" />
          <Select label="Format" data={FORMATS} value={format} onChange={(value) => value && setFormat(value as DatasetFormat)} allowDeselect={false} w={230} data-testid="export-format" />
          <Button
            loading={start.isPending}
            onClick={() => start.mutate({ format, revision: revision === "current" ? null : revision }, { onSuccess: (job) => setJobId(job.id) })}
          >
            Export
          </Button>
        </Group>
        {start.isError && <ProblemAlert title="The export did not start" error={start.error} />}
        {jobId && (
          <FollowedJob jobId={jobId}>
            {(result) => {
              const made = result as unknown as ExportResult;
              return (
                <Group gap="sm">
                  <Button component="a" href={exportDownloadUrl(project, jobId)} download={made.file_name} variant="light" data-testid="export-download">
                    Download {made.file_name}
                  </Button>
                  <Text size="sm">
                    {made.items} items · {formatBytes(made.size)}
                  </Text>
                </Group>
              );
            }}
          </FollowedJob>
        )}
      </Stack>
    </Paper>
  );
}

/** Import a labelled dataset from an archive, export the data or a revision, and follow each job to its end. */
export function TransferPage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Import & export · ${project} · modelyard`);
  const mayWrite = useAllowed("write");
  return (
    <>
      <PageHeader
        title="Import & export"
        description={`Datasets of project ${project} in COCO, Pascal VOC, YOLO, ImageNet or Datumaro form.`}
        actions={
          <Button component={Link} to={paths.dataset(project)} variant="default">
            Open the dataset
          </Button>
        }
      />
      {!mayWrite && (
        <Text size="sm" c="dimmed" mb="sm">
          Importing and exporting need a token with the write scope.
        </Text>
      )}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <ImportSection project={project} />
        <ExportSection project={project} />
      </SimpleGrid>
    </>
  );
}
