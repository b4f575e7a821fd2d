import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, sendFile, unwrap, type Schema } from "@/api";
import { jobKeys } from "@/lib/jobs";
import { domainKeys } from "@/lib/queryKeys";

export type Architecture = Schema<"ArchitectureRead">;
export type StorageUsage = Schema<"StorageUsage">;
export type Token = Schema<"TokenRead">;
export type TokenCreate = Schema<"TokenCreate">;
export type TokenCreated = Schema<"TokenCreated">;

export const architectureKeys = domainKeys("architectures");
export const storageKeys = domainKeys("storage");
export const tokenKeys = domainKeys("tokens");

export const STORAGE_JOBS = { verify: "storage.verify", gc: "storage.gc" } as const;

export function useArchitectures() {
  return useQuery({
    queryKey: architectureKeys.list(),
    queryFn: () => unwrap(api.GET("/api/v1/architectures")),
  });
}

/** Pretrained weights imported from a file (for servers that cannot download them). */
export function useImportWeights() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ architecture, file }: { architecture: string; file: File }) =>
      sendFile("PUT", `/api/v1/architectures/${encodeURIComponent(architecture)}/weights`, file),
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: architectureKeys.all }),
        client.invalidateQueries({ queryKey: storageKeys.all }),
      ]),
  });
}

export function useDeleteWeights() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (architecture: string) =>
      unwrap(
        api.DELETE("/api/v1/architectures/{architecture_id}/weights", {
          params: { path: { architecture_id: architecture } },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: architectureKeys.all }),
  });
}

export function useStorageUsage(enabled: boolean) {
  return useQuery({
    queryKey: storageKeys.detail("usage"),
    queryFn: () => unwrap(api.GET("/api/v1/files:usage")),
    enabled,
  });
}

/** The latest storage checks and clean-ups, newest first. */
export function useStorageJobs(enabled: boolean) {
  return useQuery({
    queryKey: jobKeys.list({ storage: true }),
    queryFn: async () => {
      const pages = await Promise.all(
        Object.values(STORAGE_JOBS).map((type) =>
          unwrap(api.GET("/api/v1/jobs", { params: { query: { type, limit: 5, order: "desc" } } })),
        ),
      );
      return pages
        .flatMap((page) => page.items)
        .sort((a, b) => b.created_at.localeCompare(a.created_at))
        .slice(0, 5);
    },
    enabled,
    refetchInterval: (query) =>
      (query.state.data ?? []).some((job) => !["succeeded", "failed", "cancelled"].includes(job.status)) ? 1_000 : false,
  });
}

export function useStartStorageJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ type, params }: { type: string; params: Record<string, unknown> }) =>
      unwrap(api.POST("/api/v1/jobs", { body: { type, params } })),
    onSuccess: () => client.invalidateQueries({ queryKey: jobKeys.all }),
  });
}

export function useTokens(enabled: boolean) {
  return useQuery({ queryKey: tokenKeys.list(), queryFn: () => unwrap(api.GET("/api/v1/tokens")), enabled });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TokenCreate) => unwrap(api.POST("/api/v1/tokens", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (tokenId: string) =>
      unwrap(api.POST("/api/v1/tokens/{token_id}:revoke", { params: { path: { token_id: tokenId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}
