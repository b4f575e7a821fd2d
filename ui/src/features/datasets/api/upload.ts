import { notifyUnauthorized, problemFromResponse, type ApiProblem, type Schema } from "@/api";

export type UploadResult = Schema<"UploadResult">;

/** A multipart POST that reports how many bytes of its body have gone (fetch cannot say that). */
export function postWithProgress(
  url: string,
  form: FormData,
  onProgress: (sentBytes: number, totalBytes: number) => void,
): Promise<{ status: number; body: unknown; problem: ApiProblem | null }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.withCredentials = true;
    request.upload.onprogress = (event) => onProgress(event.loaded, event.total);
    request.onerror = () => reject(new Error("the connection to the server was lost during the upload"));
    request.ontimeout = () => reject(new Error("the upload timed out"));
    request.onload = () => {
      let body: unknown = request.responseText;
      try {
        body = request.responseText ? JSON.parse(request.responseText) : null;
      } catch {
        // not JSON: kept as text for the problem's detail
      }
      if (request.status === 401) notifyUnauthorized();
      const ok = request.status >= 200 && request.status < 300;
      const response = new Response(null, {
        status: request.status,
        statusText: request.statusText,
        headers: { "x-request-id": request.getResponseHeader("x-request-id") ?? "" },
      });
      resolve({ status: request.status, body, problem: ok ? null : problemFromResponse(response, body) });
    };
    request.send(form);
  });
}

/** Files of one upload request: at most this many, and about this many bytes (one large file goes alone). */
export const BATCH_FILES = 20;
export const BATCH_BYTES = 16 * 1024 * 1024;

export function batchesOf<T extends { file: File }>(entries: T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + entry.file.size > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.file.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Every file under what was dropped: folders are walked (the browser hands them over as entries). */
export async function droppedFiles(items: DataTransferItemList): Promise<{ file: File; path: string }[]> {
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((entry): entry is FileSystemEntry => entry !== null && entry !== undefined);
  const found: { file: File; path: string }[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      found.push({ file, path: prefix + entry.name });
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // A directory reader hands its entries over in chunks until it returns none.
    for (;;) {
      const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (chunk.length === 0) break;
      for (const child of chunk) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  for (const entry of entries) await walk(entry, "");
  return found;
}
