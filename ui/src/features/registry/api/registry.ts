import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import { keysetPaging } from "@/lib/keyset";

import { registryKeys } from "./keys";

export type RegisteredModel = Schema<"ModelRead">;
export type ModelVersion = Schema<"VersionRead">;
export type ModelUpdate = Schema<"ModelUpdate">;
export type VersionUpdate = Schema<"VersionUpdate">;
export type RegistryEvent = Schema<"EventRead">;
export type Holders = Schema<"ModelHolders">;
export type Stage = ModelVersion["stage"];
export type ModelSort = "name" | "description" | "creation_time" | "last_updated_time" | "num_versions";

export const STAGES: Stage[] = ["none", "staging", "production", "archived"];
/** Rows per request: a screenful and some; the table asks for the next page as the end scrolls into view. */
export const VERSION_PAGE = 100;

export interface ModelListParams {
  name?: string;
  description?: string;
  tag?: string[];
  label?: string[];
  archived?: boolean;
  sort: ModelSort;
  order: "asc" | "desc";
}

export function useRegisteredModels(params: ModelListParams) {
  return useInfiniteQuery({
    queryKey: registryKeys.list({ kind: "models", ...params }),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/registry/models", {
          params: { query: { ...params, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    ...keysetPaging,
  });
}

export function useRegisteredModel(name: string) {
  return useQuery({
    queryKey: registryKeys.detail("model", name),
    queryFn: () => unwrap(api.GET("/api/v1/registry/models/{name}", { params: { path: { name } } })),
  });
}

export function useVersions(name: string, order: "asc" | "desc") {
  return useInfiniteQuery({
    queryKey: registryKeys.list({ kind: "versions", name, order }),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/registry/models/{name}/versions", {
          params: {
            path: { name },
            query: { order, limit: VERSION_PAGE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    ...keysetPaging,
  });
}

export function useVersion(name: string, number: number) {
  return useQuery({
    queryKey: registryKeys.detail("version", name, number),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/registry/models/{name}/versions/{selector}", {
          params: { path: { name, selector: String(number) } },
        }),
      ),
  });
}

/** Every alias and stage with its versions: now (`at` null) or as of a moment. */
export function useHolders(name: string, at: string | null) {
  return useQuery({
    queryKey: registryKeys.detail("holders", name, at ?? "now"),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/registry/models/{name}/holders", {
          params: { path: { name }, query: at ? { at } : {} },
        }),
      ),
  });
}

export function useEvents(name: string) {
  return useInfiniteQuery({
    queryKey: registryKeys.list({ kind: "events", name }),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/registry/models/{name}/events", {
          params: { path: { name }, query: { order: "desc", limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    ...keysetPaging,
  });
}

function useRegistryMutation<Variables, Result>(call: (variables: Variables) => Promise<Result>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSettled: () => client.invalidateQueries({ queryKey: registryKeys.all }),
  });
}

export function useUpdateModel(name: string) {
  return useRegistryMutation((body: Partial<ModelUpdate>) =>
    unwrap(api.PATCH("/api/v1/registry/models/{name}", { params: { path: { name } }, body: { comment: "", ...body } })),
  );
}

export function useUpdateVersion(name: string, number: number) {
  return useRegistryMutation((body: Partial<VersionUpdate>) =>
    unwrap(
      api.PATCH("/api/v1/registry/models/{name}/versions/{selector}", {
        params: { path: { name, selector: String(number) } },
        body: { comment: "", force: false, ...body },
      }),
    ),
  );
}

export interface AliasMove {
  alias: string;
  version: number;
  /** Who the page showed holding it: the server moves it only if that is still so (compare-and-set). */
  expected: number | null;
  force: boolean;
}

export function useMoveAlias(name: string) {
  return useRegistryMutation(({ alias, version, expected, force }: AliasMove) =>
    unwrap(
      api.PUT("/api/v1/registry/models/{name}/aliases/{alias}", {
        params: { path: { name, alias } },
        body: { version, expected_version: expected, force, comment: "" },
      }),
    ),
  );
}

export function useRemoveAlias(name: string) {
  return useRegistryMutation(({ alias, expected }: { alias: string; expected: number }) =>
    unwrap(
      api.DELETE("/api/v1/registry/models/{name}/aliases/{alias}", {
        params: { path: { name, alias }, query: { expected_version: expected } },
      }),
    ),
  );
}

export function useChangeStage(name: string, number: number) {
  return useRegistryMutation(({ stage, archiveExisting }: { stage: Stage; archiveExisting: boolean }) =>
    unwrap(
      api.POST("/api/v1/registry/models/{name}/versions/{selector}/stage", {
        params: { path: { name, selector: String(number) } },
        body: { stage, archive_existing: archiveExisting, comment: "" },
      }),
    ),
  );
}

export function fileDownloadUrl(name: string, number: number, file: string): string {
  const encoded = file.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/registry/models/${encodeURIComponent(name)}/versions/${number}/files/${encoded}`;
}
