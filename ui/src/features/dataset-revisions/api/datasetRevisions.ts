import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import { keysetPaging } from "@/lib/keyset";

import { datasetRevisionKeys } from "./keys";

export type DatasetRevision = Schema<"RevisionRead">;
export type RevisionSubset = "training" | "validation" | "testing";
export const SUBSETS: RevisionSubset[] = ["training", "validation", "testing"];

export function useDatasetRevisions(project: string) {
  return useQuery({
    queryKey: datasetRevisionKeys.list({ project }),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/dataset/revisions", { params: { path: { project } } })),
  });
}

export function useDatasetRevision(project: string, revision: string) {
  return useQuery({
    queryKey: datasetRevisionKeys.detail(project, revision),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/dataset/revisions/{revision}", {
          params: { path: { project, revision } },
        }),
      ),
  });
}

/** A revision's items of one subset, as its data.parquet has them, a page at a time. */
export function useRevisionItems(project: string, revision: string, subset: RevisionSubset, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: datasetRevisionKeys.list({ project, revision, subset }),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/projects/{project}/dataset/revisions/{revision}/items", {
          params: {
            path: { project, revision },
            query: { subset, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    ...keysetPaging,
    enabled,
  });
}

export type SplitRatios = Record<RevisionSubset, number>;

/**
 * Freezes the annotated items into a revision (or answers the latest one when nothing changed); the items that have
 * no subset yet are split by `ratios` (fractions adding up to 1), the others keep theirs.
 */
export function useCreateDatasetRevision(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ratios: SplitRatios) =>
      unwrap(
        api.POST("/api/v1/projects/{project}/dataset/revisions", {
          params: { path: { project } },
          body: { ratios, seed: 0 },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: datasetRevisionKeys.all }),
  });
}

export function useDeleteRevisionFiles(project: string, revision: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (force: boolean) =>
      unwrap(
        api.DELETE("/api/v1/projects/{project}/dataset/revisions/{revision}/files", {
          params: { path: { project, revision }, query: { force } },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: datasetRevisionKeys.all }),
  });
}

export function parquetUrl(project: string, revisionId: string): string {
  return `/api/v1/projects/${encodeURIComponent(project)}/dataset/revisions/${encodeURIComponent(revisionId)}/data.parquet`;
}
