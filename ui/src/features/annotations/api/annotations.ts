import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { api, unwrap, type Schema } from "@/api";

import { annotationKeys } from "./keys";

/** An item as the API answers it (its polygons' points are plain number arrays there). */
export type Item = Awaited<ReturnType<typeof fetchItem>>;
export type Project = Schema<"ProjectRead">;
export type Label = Schema<"LabelRead">;
export type AnnotationIn = Schema<"AnnotationIn">;
export type Proposal = Awaited<ReturnType<typeof fetchProposal>>;
export type LabelsUsage = Schema<"LabelsUsage">;
export type TaskType = Project["task_type"];

/** The filter of the items the editor walks through, as the list and neighbours routes take it. */
export interface ItemFilter {
  annotated?: boolean;
  user_reviewed?: boolean;
  subset?: "unassigned" | "training" | "validation" | "testing";
  label?: string;
  uploaded_after?: string;
  uploaded_before?: string;
  name?: string;
}

export function useProject(project: string) {
  return useQuery({
    queryKey: annotationKeys.detail("project", project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}", { params: { path: { project } } })),
  });
}

function fetchItem(project: string, item: string) {
  return unwrap(api.GET("/api/v1/projects/{project}/dataset/items/{item}", { params: { path: { project, item } } }));
}

function fetchProposal(project: string, item: string) {
  return unwrap(
    api.POST("/api/v1/projects/{project}/dataset/items/{item}:propose", { params: { path: { project, item } } }),
  );
}

export function useItem(project: string, item: string) {
  return useQuery({
    queryKey: annotationKeys.detail("item", project, item),
    queryFn: () => fetchItem(project, item),
    // The draft is the page's; the server's copy is read again only when asked (after a save or a conflict).
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}

function neighboursQuery(project: string, item: string, filter: ItemFilter) {
  return {
    queryKey: annotationKeys.detail("neighbours", project, item, JSON.stringify(filter)),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/dataset/items/{item}/neighbours", {
          params: { path: { project, item }, query: filter },
        }),
      ),
  };
}

export function useNeighbours(project: string, item: string, filter: ItemFilter) {
  return useQuery(neighboursQuery(project, item, filter));
}

/** Fetches the next item and where it stands while this one is labelled, so that moving on is instant. */
export function usePrefetchItem(project: string, item: string | null, filter: ItemFilter) {
  const client = useQueryClient();
  useEffect(() => {
    if (!item) return;
    void client.prefetchQuery({ queryKey: annotationKeys.detail("item", project, item), queryFn: () => fetchItem(project, item) });
    void client.prefetchQuery(neighboursQuery(project, item, filter));
    new Image().src = imageUrl(project, item);
  }, [client, project, item, filter]);
}

/** The first item the filter keeps (the editor opens there). */
export function useFirstItem(project: string, filter: ItemFilter) {
  return useQuery({
    queryKey: annotationKeys.list({ kind: "first", project, ...filter }),
    queryFn: async () => {
      const page = await unwrap(
        api.GET("/api/v1/projects/{project}/dataset/items", {
          params: { path: { project }, query: { ...filter, limit: 1 } },
        }),
      );
      return page.items[0] ?? null;
    },
  });
}

export function useLabelUsage(project: string) {
  return useQuery({
    queryKey: annotationKeys.detail("usage", project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/labels:usage", { params: { path: { project } } })),
  });
}

export function usePipelineEnabled(project: string) {
  return useQuery({
    queryKey: annotationKeys.detail("pipeline", project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/pipeline", { params: { path: { project } } })),
    select: (status) => status.enabled,
  });
}

/** The enabled model's proposal for the item; asked only when a model is enabled. */
export function useProposal(project: string, item: string, enabled: boolean) {
  return useQuery({
    queryKey: annotationKeys.detail("proposal", project, item),
    queryFn: () => fetchProposal(project, item),
    enabled,
    staleTime: Infinity,
    retry: false,
  });
}

export interface SaveRequest {
  body: AnnotationIn;
  /** The annotation version the draft was made from: a save against a newer one is refused with 409. */
  version: number;
}

/** Saves the annotation with the version check (If-Match); the answer is the item as stored. */
export function useSaveAnnotation(project: string, item: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, version }: SaveRequest) =>
      unwrap(
        api.PUT("/api/v1/projects/{project}/dataset/items/{item}/annotation", {
          params: { path: { project, item }, header: { "if-match": `"${version}"` } },
          body,
        }),
      ),
    onSuccess: (saved) => {
      client.setQueryData(annotationKeys.detail("item", project, item), saved);
      return client.invalidateQueries({ queryKey: annotationKeys.detail("usage", project) });
    },
  });
}

/** Reads the item again from the server (after a conflict). */
export function useReloadItem(project: string, item: string) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: annotationKeys.detail("item", project, item) });
}

export function imageUrl(project: string, item: string): string {
  return `/api/v1/projects/${encodeURIComponent(project)}/dataset/items/${encodeURIComponent(item)}/image`;
}
