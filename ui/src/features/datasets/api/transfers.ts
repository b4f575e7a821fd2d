import { useMutation, useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import type { Job } from "@/lib/jobs";

import { datasetKeys } from "./keys";
import { postWithProgress } from "./upload";

export type DatasetFormat = Schema<"modelyard__datasets__schemas__ExportRequest">["format"];
export type DatasetRevision = Schema<"RevisionRead">;

export const FORMATS: { value: DatasetFormat; label: string }[] = [
  { value: "coco", label: "COCO" },
  { value: "voc", label: "Pascal VOC" },
  { value: "yolo", label: "YOLO" },
  { value: "imagenet", label: "ImageNet (folders per label)" },
  { value: "datumaro", label: "Datumaro" },
];

export function useDatasetRevisions(project: string) {
  return useQuery({
    queryKey: datasetKeys.detail(project, "revisions"),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/dataset/revisions", { params: { path: { project } } })),
  });
}

export interface ImportRequest {
  project: string;
  format: DatasetFormat;
  archive: File;
  unknownLabels: "create" | "refuse";
  onProgress: (percent: number) => void;
}

/** Sends the archive (with its upload's progress) and starts the import job. */
export function useStartImport() {
  return useMutation({
    mutationFn: async ({ project, format, archive, unknownLabels, onProgress }: ImportRequest): Promise<Job> => {
      const form = new FormData();
      form.append("file", archive, archive.name);
      form.append("format", format);
      form.append("project", project);
      form.append("unknown_labels", unknownLabels);
      const answer = await postWithProgress("/api/v1/dataset-imports", form, (sent, total) =>
        onProgress(total > 0 ? (100 * sent) / total : 0),
      );
      if (answer.problem) throw answer.problem;
      return answer.body as Job;
    },
  });
}

export function useStartExport(project: string) {
  return useMutation({
    mutationFn: (body: { format: DatasetFormat; revision: string | null }) =>
      unwrap(api.POST("/api/v1/projects/{project}/dataset/exports", { params: { path: { project } }, body })),
  });
}

export function exportDownloadUrl(project: string, jobId: string): string {
  return `/api/v1/projects/${encodeURIComponent(project)}/dataset/exports/${encodeURIComponent(jobId)}/download`;
}

/** What an import job reports when it has finished (its `result`). */
export interface ImportReport {
  imported: number;
  skipped_count: number;
  skipped: { item: string; reason: string }[];
  labels_created: string[];
  subsets: Record<string, number>;
  split_to_testing: number;
  subsets_note: string;
  annotations_given_to_duplicates: number;
  ignored_shapes: Record<string, number>;
  shapes: { clipped: number; dropped_count: number; dropped: { item: string; reason: string }[]; items_left_unannotated: number };
}

export interface ExportResult {
  file_name: string;
  size: number;
  items: number;
  format: string;
}
