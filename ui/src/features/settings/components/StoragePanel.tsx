import { Anchor, Button, Checkbox, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";

import { EChart, JobProgress, JobStatusBadge, LoadingState, ProblemAlert } from "@/components";
import { formatBytes, formatDateTime } from "@/lib/format";
import { paths } from "@/lib/paths";

import { STORAGE_JOBS, useStartStorageJob, useStorageJobs, useStorageUsage, type StorageUsage } from "../api/settings";

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="lg" fw={700} data-testid={testId}>
        {value}
      </Text>
    </Paper>
  );
}

function usageChart(usage: StorageUsage) {
  const folders = [...usage.folders].reverse();
  return {
    grid: { left: 140, right: 24, top: 8, bottom: 24 },
    tooltip: { trigger: "axis", valueFormatter: (value: number) => formatBytes(value) },
    xAxis: { type: "value", axisLabel: { formatter: (value: number) => formatBytes(value) } },
    yAxis: { type: "category", data: folders.map((folder) => folder.folder) },
    series: [{ type: "bar", data: folders.map((folder) => folder.bytes), itemStyle: { color: "#364fc7" } }],
  };
}

function UsageTables({ usage }: { usage: StorageUsage }) {
  const used = usage.total_bytes - usage.free_bytes;
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <Stat label="Files" value={String(usage.files)} testId="storage-files" />
        <Stat label="Size" value={formatBytes(usage.bytes)} testId="storage-bytes" />
        <Stat label="On disk (each content once)" value={formatBytes(usage.stored_bytes)} testId="storage-stored" />
        <Stat label="Disk free" value={formatBytes(usage.free_bytes)} testId="storage-free" />
      </SimpleGrid>
      <Progress
        value={usage.total_bytes ? (100 * used) / usage.total_bytes : 0}
        aria-label={`Disk used: ${formatBytes(used)} of ${formatBytes(usage.total_bytes)}`}
      />
      <EChart
        option={usageChart(usage)}
        label="Size of each folder of the data directory (the table below has the numbers)"
        height={Math.max(120, 32 * usage.folders.length + 40)}
      />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <section aria-labelledby="folders-title">
          <Title order={3} size="h5" id="folders-title" mb={4}>
            By folder
          </Title>
          <Table aria-labelledby="folders-title">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Folder</Table.Th>
                <Table.Th scope="col">Files</Table.Th>
                <Table.Th scope="col">Size</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {usage.folders.map((folder) => (
                <Table.Tr key={folder.folder}>
                  <Table.Td>{folder.folder}</Table.Td>
                  <Table.Td>{folder.files}</Table.Td>
                  <Table.Td>{formatBytes(folder.bytes)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
        <section aria-labelledby="projects-usage-title">
          <Title order={3} size="h5" id="projects-usage-title" mb={4}>
            By project
          </Title>
          <Table aria-labelledby="projects-usage-title">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Project</Table.Th>
                <Table.Th scope="col">Files</Table.Th>
                <Table.Th scope="col">Size</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {usage.projects.map((project) => (
                <Table.Tr key={project.project_id}>
                  <Table.Td>
                    {project.project_name ? (
                      <Anchor component={Link} to={paths.project(project.project_name)}>
                        {project.project_name}
                      </Anchor>
                    ) : (
                      `deleted project ${project.project_id.slice(0, 8)}`
                    )}
                  </Table.Td>
                  <Table.Td>{project.files}</Table.Td>
                  <Table.Td>{formatBytes(project.bytes)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
      </SimpleGrid>
    </Stack>
  );
}

/** Storage usage and the two storage jobs (verify every file, collect garbage); admins only. */
export function StoragePanel({ admin }: { admin: boolean }) {
  const usage = useStorageUsage(admin);
  const jobs = useStorageJobs(admin);
  const start = useStartStorageJob();
  const [quick, setQuick] = useState(false);

  if (!admin) {
    return <Text size="sm">Storage usage, verification and clean-up need an admin token.</Text>;
  }
  return (
    <Stack gap="lg">
      {usage.isPending ? (
        <LoadingState label="Measuring storage" />
      ) : usage.isError ? (
        <ProblemAlert title="Could not measure the storage" error={usage.error} />
      ) : (
        <UsageTables usage={usage.data} />
      )}
      <section aria-labelledby="storage-jobs-title">
        <Title order={3} size="h5" id="storage-jobs-title" mb="xs">
          Checks and clean-up
        </Title>
        <Group gap="sm" mb="sm" align="center">
          <Button onClick={() => start.mutate({ type: STORAGE_JOBS.verify, params: { quick } })} loading={start.isPending && start.variables?.type === STORAGE_JOBS.verify}>
            Verify files
          </Button>
          <Checkbox label="Quick (sizes and links; hash only unlinked files)" checked={quick} onChange={(e) => setQuick(e.currentTarget.checked)} />
          <Button variant="default" onClick={() => start.mutate({ type: STORAGE_JOBS.gc, params: {} })} loading={start.isPending && start.variables?.type === STORAGE_JOBS.gc}>
            Collect garbage
          </Button>
        </Group>
        {start.isError && <ProblemAlert title="The job did not start" error={start.error} />}
        {jobs.isError && <ProblemAlert title="Could not load the storage jobs" error={jobs.error} />}
        {jobs.data && jobs.data.length > 0 && (
          <Table aria-label="Recent storage jobs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Job</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
                <Table.Th scope="col">Progress</Table.Th>
                <Table.Th scope="col">Outcome</Table.Th>
                <Table.Th scope="col">Started</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {jobs.data.map((job) => (
                <Table.Tr key={job.id} data-testid="storage-job">
                  <Table.Td>
                    <Anchor component={Link} to={paths.job(job.id)}>
                      {job.type}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <JobStatusBadge status={job.status} />
                  </Table.Td>
                  <Table.Td>
                    <JobProgress job={job} withStep={false} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace" lineClamp={2}>
                      {job.result ? JSON.stringify(job.result) : job.error ?? job.message}
                    </Text>
                  </Table.Td>
                  <Table.Td>{formatDateTime(job.created_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </section>
    </Stack>
  );
}
