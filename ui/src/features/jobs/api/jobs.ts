import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/api";
import { isFinished, jobKeys, type Job, type JobStatus } from "@/lib/jobs";
import { keysetPaging, type KeysetPage } from "@/lib/keyset";
import { domainKeys } from "@/lib/queryKeys";

const projectKeys = domainKeys("projects");

export const JOB_STATUSES: JobStatus[] = ["pending", "running", "cancelling", "succeeded", "failed", "cancelled"];

export interface JobFilters {
  status?: JobStatus;
  type?: string;
  project?: string;
  order: "asc" | "desc";
}

/** Asked again every 2 s while a job on screen is still in progress, so the list moves with them. */
const ACTIVE_REFRESH_MS = 2_000;

export function useJobs(filters: JobFilters) {
  return useInfiniteQuery({
    queryKey: jobKeys.list(filters),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/jobs", {
          params: { query: { ...filters, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    ...keysetPaging,
    refetchInterval: (query) => {
      const pages = (query.state.data?.pages ?? []) as KeysetPage<Job>[];
      return pages.some((page) => page.items.some((job) => !isFinished(job.status))) ? ACTIVE_REFRESH_MS : false;
    },
  });
}

export function useJobTypes() {
  return useQuery({
    queryKey: [...jobKeys.all, "types"],
    queryFn: () => unwrap(api.GET("/api/v1/jobs/types")),
    staleTime: Infinity,
  });
}

/** Project names by id, for showing and filtering jobs by project (jobs carry the project's id). */
export function useProjectNames() {
  return useQuery({
    // Under the projects domain's keys: a change to projects (created, renamed) refreshes these names too.
    queryKey: projectKeys.list({ names: true }),
    queryFn: async () => {
      const page = await unwrap(api.GET("/api/v1/projects", { params: { query: { limit: 1000, sort: "name" } } }));
      return new Map(page.items.map((project) => [project.id, project.name]));
    },
    staleTime: 60_000,
  });
}

export function useCancelJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      unwrap(api.POST("/api/v1/jobs/{job_id}:cancel", { params: { path: { job_id: jobId } } })),
    onSuccess: (job) => {
      client.setQueryData(jobKeys.detail(job.id), job);
      return client.invalidateQueries({ queryKey: jobKeys.lists() });
    },
  });
}
