import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import { keysetPaging } from "@/lib/keyset";

import { projectKeys } from "./keys";

export type Project = Schema<"ProjectRead">;
export type ProjectCreate = Schema<"ProjectCreate">;
export type LabelCreate = Schema<"LabelCreate">;
export type TaskType = Project["task_type"];

export const TASK_TYPES: { value: TaskType; label: string }[] = [
  { value: "multiclass_classification", label: "Multi-class classification" },
  { value: "multilabel_classification", label: "Multi-label classification" },
  { value: "detection", label: "Detection" },
  { value: "instance_segmentation", label: "Instance segmentation" },
];

export function taskLabel(task: TaskType): string {
  return TASK_TYPES.find((entry) => entry.value === task)?.label ?? task;
}

export interface ProjectListParams {
  name?: string;
  task_type?: TaskType;
  sort: "name" | "created_at";
  order: "asc" | "desc";
}

export function useProjects(params: ProjectListParams) {
  return useInfiniteQuery({
    queryKey: projectKeys.list(params),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/projects", {
          params: { query: { ...params, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    ...keysetPaging,
  });
}

export function useProject(project: string) {
  return useQuery({
    queryKey: projectKeys.detail(project),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}", { params: { path: { project } } })),
  });
}

export function useCreateProject() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ProjectCreate) => unwrap(api.POST("/api/v1/projects", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.all }),
  });
}

export function useRenameProject(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) =>
      unwrap(api.PATCH("/api/v1/projects/{project}", { params: { path: { project } }, body: { name } })),
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.all }),
  });
}

export function useDeleteProject() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (project: string) =>
      unwrap(api.DELETE("/api/v1/projects/{project}", { params: { path: { project } } })),
    onSuccess: (_data, project) => {
      client.removeQueries({ queryKey: projectKeys.detail(project) });
      return client.invalidateQueries({ queryKey: projectKeys.lists() });
    },
  });
}

export type Label = Project["labels"][number];
export type LabelUpdate = Schema<"LabelUpdate">;

/** Items and shapes that use each label, and how many items are annotated. */
export function useLabelUsage(project: string) {
  return useQuery({
    queryKey: projectKeys.detail(project, "label-usage"),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/labels:usage", { params: { path: { project } } })),
  });
}

/** After a label changes, the project (its labels) and the usage are read again. */
function useLabelMutation<Variables, Result>(call: (variables: Variables) => Promise<Result>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.all }),
  });
}

export function useAddLabel(project: string) {
  return useLabelMutation((body: LabelCreate) =>
    unwrap(api.POST("/api/v1/projects/{project}/labels", { params: { path: { project } }, body })),
  );
}

export function useUpdateLabel(project: string) {
  return useLabelMutation(({ label, body }: { label: string; body: LabelUpdate }) =>
    unwrap(api.PATCH("/api/v1/projects/{project}/labels/{label}", { params: { path: { project, label } }, body })),
  );
}

export function useDeleteLabel(project: string) {
  return useLabelMutation(({ label, force }: { label: string; force: boolean }) =>
    unwrap(
      api.DELETE("/api/v1/projects/{project}/labels/{label}", {
        params: { path: { project, label }, query: { force } },
      }),
    ),
  );
}
