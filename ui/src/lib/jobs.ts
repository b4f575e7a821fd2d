import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap, type Schema } from "@/api";

import { domainKeys } from "./queryKeys";
import { useEventStream, type StreamState } from "./useEventStream";

/**
 * Jobs are shared by every feature that starts one (training, export, evaluation, storage checks): the
 * keys, the live job and its log live here so any page can follow a job it started.
 */
export type Job = Schema<"JobRead">;
export type JobStatus = Job["status"];

export const jobKeys = domainKeys("jobs");

const FINISHED: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];

export function isFinished(status: JobStatus): boolean {
  return FINISHED.includes(status);
}

/**
 * One job, kept current by its status stream (`GET /jobs/{id}/events`, Server-Sent Events): each event
 * replaces the cached job, so every view of it updates; the stream closes once the job has finished.
 */
export function useLiveJob(jobId: string | null): { job: ReturnType<typeof useJobQuery>; stream: StreamState } {
  const client = useQueryClient();
  const job = useJobQuery(jobId);
  const live = jobId !== null && job.data !== undefined && !isFinished(job.data.status);
  const stream = useEventStream(live ? `/api/v1/jobs/${encodeURIComponent(jobId)}/events` : null, {
    status: (data) => {
      const update = data as Job;
      client.setQueryData(jobKeys.detail(update.id), update);
      if (isFinished(update.status)) {
        void client.invalidateQueries({ queryKey: jobKeys.lists() });
        return true;
      }
      return undefined;
    },
  });
  return { job, stream };
}

function useJobQuery(jobId: string | null) {
  return useQuery({
    queryKey: jobKeys.detail(jobId ?? ""),
    queryFn: () => unwrap(api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: jobId! } } })),
    enabled: jobId !== null,
  });
}

/**
 * A job's log as it is written (`GET /jobs/{id}/logs`, Server-Sent Events: one `log` event per line, `end`
 * after the last). The whole log is sent from its start on each connection, so lines are kept per stream.
 */
export function useJobLog(jobId: string | null, maxLines = 2000): { lines: string[]; stream: StreamState } {
  const [log, setLog] = useState<{ jobId: string | null; lines: string[] }>({ jobId, lines: [] });
  const [ended, setEnded] = useState<string | null>(null);
  const url = jobId && ended !== jobId ? `/api/v1/jobs/${encodeURIComponent(jobId)}/logs` : null;
  const stream = useEventStream(
    url,
    {
      log: (line) => {
      setLog((current) => {
        const lines = current.jobId === jobId ? current.lines : [];
        const next = [...lines, String(line)];
        return { jobId, lines: next.length > maxLines ? next.slice(-maxLines) : next };
      });
      return undefined;
      },
      end: () => {
        setEnded(jobId);
        return true;
      },
    },
    // Each connection sends the log from its first line: a reconnection starts the lines over.
    { onOpen: () => setLog({ jobId, lines: [] }) },
  );
  return { lines: log.jobId === jobId ? log.lines : [], stream: ended === jobId ? "closed" : stream };
}
