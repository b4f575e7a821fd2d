import { useInfiniteQuery, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import { keysetPaging } from "@/lib/keyset";

import { revisionKeys } from "./keys";

export type ModelRevision = Schema<"ModelRevisionRead">;
export type Variant = Schema<"VariantRead">;
export type Evaluation = Schema<"EvaluationRead">;
export type Lineage = Schema<"Lineage">;
export type DatasetRevision = Schema<"RevisionRead">;
export type RevisionStatus = ModelRevision["status"];

export interface RevisionFilters {
  architecture?: string;
  status?: RevisionStatus;
  dataset_revision?: string;
  order: "asc" | "desc";
}

const path = (revisionId: string) => ({ params: { path: { revision_id: revisionId } } });

export function useRevisions(project: string, filters: RevisionFilters) {
  return useInfiniteQuery({
    queryKey: revisionKeys.list({ project, ...filters }),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/projects/{project}/models", {
          params: { path: { project }, query: { ...filters, limit: 200, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    ...keysetPaging,
  });
}

/** While the revision trains, it is read again every few seconds (the training job page streams the details). */
export const LIVE_REFRESH_MS = 3000;

export function useRevision(revisionId: string) {
  return useQuery({
    ...revisionQuery(revisionId),
    refetchInterval: (query) => (query.state.data?.status === "running" ? LIVE_REFRESH_MS : false),
  });
}

export function revisionQuery(revisionId: string) {
  return {
    queryKey: revisionKeys.detail(revisionId),
    queryFn: () => unwrap(api.GET("/api/v1/models/{revision_id}", path(revisionId))),
  };
}

export function metricsQuery(revisionId: string) {
  return {
    queryKey: revisionKeys.detail(revisionId, "metrics"),
    queryFn: () => unwrap(api.GET("/api/v1/models/{revision_id}/metrics", path(revisionId))) as Promise<unknown[]>,
  };
}

export function evaluationsQuery(revisionId: string) {
  return {
    queryKey: revisionKeys.detail(revisionId, "evaluations"),
    queryFn: () => unwrap(api.GET("/api/v1/models/{revision_id}/evaluations", path(revisionId))),
  };
}

export function useRevisionMetrics(revisionId: string, enabled: boolean, live: boolean) {
  return useQuery({ ...metricsQuery(revisionId), enabled, refetchInterval: live ? LIVE_REFRESH_MS : false });
}

export function useEvaluations(revisionId: string) {
  return useQuery(evaluationsQuery(revisionId));
}

/** Several revisions at once (the comparison): each with its record, curves and evaluations. */
export function useRevisionsCompared(revisionIds: string[]) {
  const revisions = useQueries({ queries: revisionIds.map(revisionQuery) });
  const metrics = useQueries({ queries: revisionIds.map(metricsQuery) });
  const evaluations = useQueries({ queries: revisionIds.map(evaluationsQuery) });
  return { revisions, metrics, evaluations };
}

export function useVariants(revisionId: string) {
  return useQuery({
    queryKey: revisionKeys.detail(revisionId, "variants"),
    queryFn: () => unwrap(api.GET("/api/v1/models/{revision_id}/variants", path(revisionId))),
  });
}

export function useLineage(revisionId: string) {
  return useQuery({
    queryKey: revisionKeys.detail(revisionId, "lineage"),
    queryFn: () => unwrap(api.GET("/api/v1/models/{revision_id}/lineage", path(revisionId))),
  });
}

export function useDatasetRevision(project: string, datasetRevisionId: string | undefined) {
  return useQuery({
    queryKey: revisionKeys.detail("dataset", datasetRevisionId ?? ""),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/dataset/revisions/{revision}", {
          params: { path: { project, revision: datasetRevisionId! } },
        }),
      ),
    enabled: Boolean(datasetRevisionId),
  });
}

export function usePipeline(project: string) {
  return useQuery({
    queryKey: revisionKeys.detail("pipeline", project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/pipeline", { params: { path: { project } } })),
  });
}

function useInvalidating<Input, Output>(mutationFn: (input: Input) => Promise<Output>) {
  const client = useQueryClient();
  return useMutation({ mutationFn, onSuccess: () => client.invalidateQueries({ queryKey: revisionKeys.all }) });
}

export function useRenameRevision(revisionId: string) {
  return useInvalidating((name: string) => unwrap(api.PATCH("/api/v1/models/{revision_id}", { ...path(revisionId), body: { name } })));
}

export function useEvaluate(revisionId: string) {
  return useInvalidating((body: Schema<"EvaluateRequest">) => unwrap(api.POST("/api/v1/models/{revision_id}:evaluate", { ...path(revisionId), body })));
}

export function useExport(revisionId: string) {
  return useInvalidating((body: { format: "openvino" | "onnx"; precision: "fp32" | "fp16" }) =>
    unwrap(api.POST("/api/v1/models/{revision_id}/variants", { ...path(revisionId), body })),
  );
}

export function useOptimize(revisionId: string) {
  return useInvalidating((maxDrop: number | null) =>
    unwrap(api.POST("/api/v1/models/{revision_id}:optimize", { ...path(revisionId), body: { max_drop: maxDrop } })),
  );
}

export function useEnableInPipeline(project: string) {
  return useInvalidating((body: Schema<"PipelineEnable">) =>
    unwrap(api.PUT("/api/v1/projects/{project}/pipeline", { params: { path: { project } }, body })),
  );
}

export function useRegister(revisionId: string) {
  return useInvalidating((input: { name: string; createModel: boolean; comment: string }) =>
    unwrap(
      api.POST("/api/v1/registry/models/{name}/versions", {
        params: { path: { name: input.name } },
        // A revision brings its own framework, label map, parameters and metrics; the rest stays default.
        body: { revision_id: revisionId, create_model: input.createModel, comment: input.comment, name: "", description: "", framework: "other" },
      }),
    ),
  );
}

export function useDeleteRevision(revisionId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (weightsOnly: boolean) =>
      unwrap(api.DELETE("/api/v1/models/{revision_id}", { ...path(revisionId), params: { ...path(revisionId).params, query: { weights_only: weightsOnly } } })),
    onSuccess: (_data, weightsOnly) => {
      if (!weightsOnly) client.removeQueries({ queryKey: revisionKeys.detail(revisionId) });
      return client.invalidateQueries({ queryKey: revisionKeys.lists() });
    },
  });
}
