import { Anchor, Group, Select, Text } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link, useNavigate } from "react-router";

import { DataTable, EmptyState, JobProgress, JobStatusBadge, LoadingState, PageHeader, ProblemAlert, type Column } from "@/components";
import { formatDateTime } from "@/lib/format";
import type { Job, JobStatus } from "@/lib/jobs";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useSearchParam, useSortParam } from "@/lib/useSearchState";

import { JOB_STATUSES, useJobTypes, useJobs, useProjectNames } from "../api/jobs";

function columns(projectNames: Map<string, string>): Column<Job>[] {
  return [
    {
      key: "type",
      header: "Job",
      render: (job) => (
        <Anchor component={Link} to={paths.job(job.id)} fw={600}>
          {job.type}
        </Anchor>
      ),
    },
    { key: "status", header: "Status", render: (job) => <JobStatusBadge status={job.status} /> },
    {
      key: "project",
      header: "Project",
      render: (job) => {
        const name = job.project_id ? projectNames.get(job.project_id) : undefined;
        return name ? (
          <Anchor component={Link} to={paths.project(name)}>
            {name}
          </Anchor>
        ) : (
          <Text size="sm" c="dimmed">
            {job.project_id ? job.project_id.slice(0, 8) : "—"}
          </Text>
        );
      },
    },
    { key: "progress", header: "Progress", render: (job) => <JobProgress job={job} /> },
    { key: "created", header: "Created", sortKey: "created_at", render: (job) => formatDateTime(job.created_at) },
    { key: "by", header: "By", render: (job) => job.created_by },
  ];
}

/** Every job, newest first, filtered by status, type and project; the list follows jobs still in progress. */
export function JobsPage() {
  useDocumentTitle("Jobs · modelyard");
  const navigate = useNavigate();
  const [status, setStatus] = useSearchParam("status");
  const [type, setType] = useSearchParam("type");
  const [project, setProject] = useSearchParam("project");
  const [sort, setSort] = useSortParam({ key: "created_at", order: "desc" }, ["created_at"]);
  const types = useJobTypes();
  const projectNames = useProjectNames();
  const names = projectNames.data ?? new Map<string, string>();
  const jobs = useJobs({
    ...(status ? { status: status as JobStatus } : {}),
    ...(type ? { type } : {}),
    ...(project ? { project } : {}),
    order: sort.order,
  });
  const filtered = Boolean(status || type || project);

  return (
    <>
      <PageHeader title="Jobs" description="Training, export, evaluation, imports and storage checks, as they run." />
      <Group mb="md" gap="sm" align="flex-end">
        <Select label="Status" placeholder="Any status" data={JOB_STATUSES} value={status} onChange={setStatus} clearable w={180} />
        <Select
          label="Type"
          placeholder="Any type"
          data={(types.data ?? []).map((jobType) => jobType.name)}
          value={type}
          onChange={setType}
          clearable
          searchable
          w={220}
        />
        <Select
          label="Project"
          placeholder="Any project"
          data={[...names.values()]}
          value={project}
          onChange={setProject}
          clearable
          searchable
          w={220}
        />
      </Group>
      {types.isError && <ProblemAlert title="Could not load the job types" error={types.error} />}
      {jobs.isPending ? (
        <LoadingState label="Loading jobs" />
      ) : jobs.isError ? (
        <ProblemAlert title="Could not load the jobs" error={jobs.error} />
      ) : (
        <DataTable
          label="Jobs"
          rows={keysetItems(jobs.data)}
          columns={columns(names)}
          rowKey={(job) => job.id}
          sort={sort}
          onSortChange={setSort}
          hasMore={jobs.hasNextPage}
          loadingMore={jobs.isFetchingNextPage}
          onLoadMore={() => void jobs.fetchNextPage()}
          onRowOpen={(job) => navigate(paths.job(job.id))}
          empty={
            <EmptyState title={filtered ? "No job matches" : "No jobs yet"}>
              {filtered ? "Change the filters above." : "Jobs appear here when training, exports or imports start."}
            </EmptyState>
          }
        />
      )}
    </>
  );
}
