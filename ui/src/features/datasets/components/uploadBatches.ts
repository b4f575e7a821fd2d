import type { ApiProblem, Schema } from "@/api";

import { postWithProgress, type UploadResult } from "../api/upload";

export interface FileRow {
  file: File;
  /** Where it came from: its path in the dropped folder, or its name. */
  path: string;
  status: "queued" | "sending" | "stored" | "duplicate" | "rejected" | "failed" | "unpacked";
  progress: number;
  detail?: string;
  /** Images stored from it (a zip holds many). */
  stored?: number;
  duplicates?: Schema<"DuplicateFile">[];
  rejected?: Schema<"RejectedFile">[];
}

/** A batch is sent again after a lost connection or a server error, this many times in all. */
const ATTEMPTS = 3;
const RETRY_AFTER_MS = 1000;

function isZip(file: File): boolean {
  return file.name.toLowerCase().endsWith(".zip");
}

/**
 * The server's verdict on each file of the batch. It names files by their name (a zip's members as
 * `zip name/member`); two files of one name take the verdicts in the order they were sent.
 */
export function verdicts(result: UploadResult, batch: number[], files: FileRow[]): Map<number, Partial<FileRow>> {
  const found = new Map<number, Partial<FileRow>>(batch.map((index) => [index, { stored: 0, duplicates: [], rejected: [] }]));
  const taken = new Set<number>();
  const owner = (name: string): number | undefined => {
    const zip = batch.find((index) => isZip(files[index]!.file) && name.startsWith(`${files[index]!.file.name}/`));
    if (zip !== undefined) return zip;
    const index = batch.find((candidate) => !taken.has(candidate) && files[candidate]!.file.name === name);
    if (index !== undefined) taken.add(index);
    return index;
  };
  for (const item of result.created ?? []) {
    const index = owner(item.name);
    if (index !== undefined) found.get(index)!.stored! += 1;
  }
  for (const duplicate of result.duplicates ?? []) {
    const index = owner(duplicate.name);
    if (index !== undefined) found.get(index)!.duplicates!.push(duplicate);
  }
  for (const rejected of result.rejected ?? []) {
    const index = owner(rejected.name);
    if (index !== undefined) found.get(index)!.rejected!.push(rejected);
  }
  for (const [index, verdict] of found) {
    const { stored = 0, duplicates = [], rejected = [] } = verdict;
    if (isZip(files[index]!.file) && (stored > 0 || duplicates.length + rejected.length > 1)) {
      verdict.status = "unpacked";
      verdict.detail = `${stored} stored, ${duplicates.length} duplicate(s), ${rejected.length} rejected`;
    } else if (rejected.length > 0) {
      verdict.status = "rejected";
      verdict.detail = rejected[0]!.reason;
    } else if (duplicates.length > 0) {
      verdict.status = "duplicate";
      verdict.detail = `same bytes as item ${duplicates[0]!.item_id}`;
    } else {
      verdict.status = "stored";
    }
    verdict.progress = 100;
  }
  return found;
}

/** Sends one batch, retrying a lost connection or a server error; a refusal (4xx) is not retried. */
export async function sendBatch(
  project: string,
  batch: number[],
  files: FileRow[],
  patch: (index: number, change: Partial<FileRow>) => void,
): Promise<{ sent: boolean; problem: ApiProblem | Error | null }> {
  const sizes = batch.map((index) => files[index]!.file.size);
  const bytes = sizes.reduce((sum, size) => sum + size, 0);
  let last: ApiProblem | Error | null = null;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const form = new FormData();
    batch.forEach((index) => form.append("files", files[index]!.file, files[index]!.file.name));
    batch.forEach((index) => patch(index, { status: "sending", progress: 0, detail: attempt > 1 ? `attempt ${attempt}` : undefined }));
    try {
      const answer = await postWithProgress(
        `/api/v1/projects/${encodeURIComponent(project)}/dataset/items`,
        form,
        (sent, total) => {
          // The body holds the files in order: a file is sent once the bytes before its end are.
          const done = total > 0 ? (sent / total) * bytes : 0;
          let before = 0;
          batch.forEach((index, position) => {
            const size = sizes[position]!;
            patch(index, { progress: size > 0 ? Math.max(0, Math.min(99, (100 * (done - before)) / size)) : 99 });
            before += size;
          });
        },
      );
      const body = answer.body as Partial<UploadResult> & { code?: string };
      if (answer.status === 201 || (answer.status === 400 && body.code === "images_rejected")) {
        const result: UploadResult = { created: body.created ?? [], duplicates: body.duplicates ?? [], rejected: body.rejected ?? [] };
        verdicts(result, batch, files).forEach((change, index) => patch(index, change));
        return { sent: true, problem: null };
      }
      last = answer.problem;
      if (answer.status < 500) break; // refused as it is (too large, not allowed): sending it again would not help
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS * attempt));
  }
  batch.forEach((index) => patch(index, { status: "failed", progress: 0, detail: last?.message }));
  return { sent: false, problem: last };
}
