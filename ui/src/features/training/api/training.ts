import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";

import { trainingKeys } from "./keys";

export type Architecture = Schema<"ArchitectureRead">;
export type TrainRequest = Schema<"TrainRequest">;
export type Job = Schema<"JobRead">;
export type ModelRevision = Schema<"ModelRevisionRead">;
export type DatasetRevision = Schema<"RevisionRead">;

export function useProjectTask(project: string) {
  return useQuery({
    queryKey: trainingKeys.detail("project", project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}", { params: { path: { project } } })),
  });
}

export function useArchitectures(task: string | undefined) {
  return useQuery({
    queryKey: trainingKeys.list({ architectures: task }),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/architectures", {
          params: { query: { task: task as Schema<"ProjectRead">["task_type"] } },
        }),
      ),
    enabled: Boolean(task),
  });
}

export function useTrainingConfiguration(project: string, architecture: string | null) {
  return useQuery({
    queryKey: trainingKeys.detail("configuration", project, architecture ?? ""),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/training-configurations/{architecture}", {
          params: { path: { project, architecture: architecture! } },
        }),
      ),
    enabled: Boolean(architecture),
  });
}

/** Revisions that can be fine-tuned: succeeded, weights kept (newest first, the first thousand). */
export function useBaseRevisions(project: string) {
  return useQuery({
    queryKey: trainingKeys.list({ bases: project }),
    queryFn: async () => {
      const page = await unwrap(
        api.GET("/api/v1/projects/{project}/models", { params: { path: { project }, query: { status: "succeeded", limit: 1000 } } }),
      );
      return page.items.filter((revision) => revision.weights_status === "available");
    },
  });
}

export function useLineage(revisionId: string | null) {
  return useQuery({
    queryKey: trainingKeys.detail("lineage", revisionId ?? ""),
    queryFn: () => unwrap(api.GET("/api/v1/models/{revision_id}/lineage", { params: { path: { revision_id: revisionId! } } })),
    enabled: Boolean(revisionId),
  });
}

export function useDatasetRevisions(project: string) {
  return useQuery({
    queryKey: trainingKeys.list({ datasetRevisions: project }),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/dataset/revisions", { params: { path: { project } } })),
  });
}

export function useStartTraining(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TrainRequest) =>
      unwrap(api.POST("/api/v1/projects/{project}/models:train", { params: { path: { project } }, body })),
    onSuccess: () => client.invalidateQueries({ queryKey: trainingKeys.all }),
  });
}

export function useJob(jobId: string) {
  return useQuery({
    queryKey: trainingKeys.detail("job", jobId),
    queryFn: () => unwrap(api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: jobId } } })),
  });
}

/** The job's per-epoch records so far; the live stream adds to the same cache entry. */
export function useJobMetrics(jobId: string) {
  return useQuery({
    queryKey: trainingKeys.detail("job", jobId, "metrics"),
    queryFn: () => unwrap(api.GET("/api/v1/jobs/{job_id}/metrics", { params: { path: { job_id: jobId } } })),
  });
}

export function useCancelJob(jobId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/jobs/{job_id}:cancel", { params: { path: { job_id: jobId } } })),
    onSuccess: (job) => client.setQueryData(trainingKeys.detail("job", jobId), job),
  });
}
