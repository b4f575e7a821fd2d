import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";

import { pipelineKeys } from "./keys";

export type PipelineStatus = Schema<"PipelineStatus">;
export type Variant = Schema<"VariantRead">;
export type PipelineEnable = Schema<"PipelineEnable">;

/** The project's pipeline and this server's request metrics, read again every few seconds. */
export function usePipeline(project: string) {
  return useQuery({
    queryKey: pipelineKeys.detail(project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/pipeline", { params: { path: { project } } })),
    refetchInterval: 5_000,
  });
}

/** Revisions that finished training: the ones a pipeline can serve. */
export function useServableRevisions(project: string) {
  return useQuery({
    queryKey: pipelineKeys.list({ kind: "revisions", project }),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/models", {
          params: { path: { project }, query: { status: "succeeded", order: "desc", limit: 200 } },
        }),
      ),
  });
}

export function useVariants(revisionId: string | null) {
  return useQuery({
    queryKey: pipelineKeys.list({ kind: "variants", revisionId }),
    queryFn: () =>
      unwrap(api.GET("/api/v1/models/{revision_id}/variants", { params: { path: { revision_id: revisionId! } } })),
    enabled: Boolean(revisionId),
  });
}

export function useEnablePipeline(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: PipelineEnable) =>
      unwrap(api.PUT("/api/v1/projects/{project}/pipeline", { params: { path: { project } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: pipelineKeys.all }),
  });
}

export function useDisablePipeline(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/projects/{project}/pipeline", { params: { path: { project } } })),
    onSettled: () => client.invalidateQueries({ queryKey: pipelineKeys.all }),
  });
}

/** Predict images with the enabled variant (multipart `files`). */
export function usePredict(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (files: File[]) => {
      const form = new FormData();
      files.forEach((file) => form.append("files", file, file.name));
      return unwrap(
        api.POST("/api/v1/projects/{project}/pipeline:predict", {
          params: { path: { project } },
          body: { files: [] },
          bodySerializer: () => form,
        }),
      );
    },
    onSettled: () => client.invalidateQueries({ queryKey: pipelineKeys.detail(project) }),
  });
}

/** One image's answer, as the predict call returns it. */
export type FilePrediction = NonNullable<ReturnType<typeof usePredict>["data"]>["predictions"][number];
