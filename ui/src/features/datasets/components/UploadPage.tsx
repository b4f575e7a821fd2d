import { Anchor, Button, Group, Paper, Progress, ScrollArea, Stack, Table, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type DragEvent } from "react";
import { Link, useParams } from "react-router";

import { PageHeader, ProblemAlert } from "@/components";
import { formatBytes, plural } from "@/lib/format";
import { paths } from "@/lib/paths";

import { datasetKeys } from "../api/keys";
import { batchesOf, droppedFiles } from "../api/upload";
import { sendBatch, type FileRow } from "./uploadBatches";

const ACCEPTED = "image/jpeg,image/png,image/bmp,image/tiff,image/webp,application/zip,.zip";

const STATUS_TEXT: Record<FileRow["status"], string> = {
  queued: "waiting",
  sending: "sending",
  stored: "stored",
  duplicate: "duplicate",
  rejected: "rejected",
  failed: "not sent",
  unpacked: "unpacked",
};

/** Drop files, folders or zips; they go in batches, each retried on a lost connection; the server's verdicts listed. */
export function UploadPage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Upload · ${project} · modelyard`);
  const client = useQueryClient();
  const [rows, setRows] = useState<FileRow[]>([]);
  const [failedBatches, setFailedBatches] = useState<number[][]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [over, setOver] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const queue = useRef<Promise<void>>(Promise.resolve());

  // The rows as last set, for the batches sent meanwhile (state updates land later).
  const latest = useRef<FileRow[]>([]);
  const replaceRows = (next: FileRow[]) => {
    latest.current = next;
    setRows(next);
  };
  const patch = (index: number, change: Partial<FileRow>) =>
    replaceRows(latest.current.map((row, position) => (position === index ? { ...row, ...change } : row)));

  const send = (batches: number[][], files: FileRow[]) => {
    setBusy(true);
    queue.current = queue.current.then(async () => {
      const failed: number[][] = [];
      for (const batch of batches) {
        const outcome = await sendBatch(project, batch, files, patch);
        if (outcome.problem) setError(outcome.problem);
        if (!outcome.sent) failed.push(batch);
      }
      setFailedBatches((current) => [...current, ...failed]);
      setBusy(false);
      await client.invalidateQueries({ queryKey: datasetKeys.all });
      await client.invalidateQueries({ queryKey: ["projects"] });
    });
  };

  const add = (files: { file: File; path: string }[]) => {
    const kept = files.filter(({ file }) => !file.name.startsWith("."));
    if (kept.length === 0) return;
    setError(null);
    const start = latest.current.length;
    const added: FileRow[] = kept.map(({ file, path }) => ({ file, path, status: "queued", progress: 0 }));
    replaceRows([...latest.current, ...added]);
    const batches = batchesOf(added.map((row, offset) => ({ file: row.file, index: start + offset }))).map((batch) =>
      batch.map((entry) => entry.index),
    );
    send(batches, latest.current);
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    void droppedFiles(event.dataTransfer.items).then(add);
  };
  const retry = () => {
    const batches = failedBatches;
    setFailedBatches([]);
    setError(null);
    batches.flat().forEach((index) => patch(index, { status: "queued", progress: 0, detail: undefined }));
    send(batches, latest.current);
  };

  const count = (status: FileRow["status"]) => rows.filter((row) => row.status === status).length;
  const duplicates = rows.flatMap((row) => row.duplicates ?? []);
  const rejected = rows.flatMap((row) => row.rejected ?? []);
  const stored = rows.reduce((sum, row) => sum + (row.stored ?? 0), 0);

  return (
    <>
      <PageHeader
        title="Upload images"
        description={`Into project ${project}: JPEG, PNG, BMP, TIFF or WebP images, folders of them, or zips. The same bytes twice are kept once.`}
        actions={
          <Button component={Link} to={paths.dataset(project)} variant="default">
            Open the dataset
          </Button>
        }
      />
      <Stack gap="md">
        <Paper
          withBorder
          p="xl"
          data-testid="upload-drop-zone"
          onDragOver={(event) => {
            event.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={onDrop}
          style={{ borderStyle: "dashed", background: over ? "var(--mantine-color-indigo-0)" : undefined }}
        >
          <Stack align="center" gap="xs">
            <Text>Drop images, folders or zips here</Text>
            <Group gap="xs">
              <Button variant="default" onClick={() => filesInput.current?.click()}>
                Choose files
              </Button>
              <Button variant="default" onClick={() => folderInput.current?.click()}>
                Choose a folder
              </Button>
            </Group>
          </Stack>
          <input
            ref={filesInput}
            type="file"
            multiple
            accept={ACCEPTED}
            hidden
            aria-label="Files to upload"
            data-testid="files-input"
            onChange={(event) => {
              add(Array.from(event.currentTarget.files ?? []).map((file) => ({ file, path: file.name })));
              event.currentTarget.value = "";
            }}
          />
          <input
            ref={(node) => {
              folderInput.current = node;
              node?.setAttribute("webkitdirectory", "");
            }}
            type="file"
            multiple
            hidden
            aria-label="Folder to upload"
            data-testid="folder-input"
            onChange={(event) => {
              add(Array.from(event.currentTarget.files ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name })));
              event.currentTarget.value = "";
            }}
          />
        </Paper>

        {rows.length > 0 && (
          <Group gap="lg" role="status" aria-live="polite" data-testid="upload-summary">
            <Text size="sm">
              {busy ? "Uploading…" : "Done."} {plural(stored, "image")} stored
            </Text>
            <Text size="sm" data-testid="duplicate-count">
              {plural(duplicates.length, "duplicate")}
            </Text>
            <Text size="sm" data-testid="rejected-count">
              {plural(rejected.length, "rejected file")}
            </Text>
            {count("failed") > 0 && (
              <Group gap="xs">
                <Text size="sm" c="red.9">
                  {plural(count("failed"), "file")} not sent
                </Text>
                <Button size="xs" onClick={retry} disabled={busy}>
                  Retry
                </Button>
              </Group>
            )}
            {!busy && stored > 0 && (
              <Anchor component={Link} to={paths.dataset(project)} size="sm">
                See them in the dataset
              </Anchor>
            )}
          </Group>
        )}
        {error !== null && <ProblemAlert title="Some files could not be sent" error={error} />}

        {rejected.length > 0 && (
          <section aria-labelledby="rejected-title">
            <Title order={2} size="h4" id="rejected-title" mb="xs">
              Rejected
            </Title>
            <Table aria-labelledby="rejected-title" data-testid="rejected-files">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">File</Table.Th>
                  <Table.Th scope="col">Why</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rejected.map((entry) => (
                  <Table.Tr key={`${entry.name}:${entry.reason}`}>
                    <Table.Td>{entry.name}</Table.Td>
                    <Table.Td>{entry.reason}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </section>
        )}
        {duplicates.length > 0 && (
          <section aria-labelledby="duplicates-title">
            <Title order={2} size="h4" id="duplicates-title" mb="xs">
              Duplicates (not stored again)
            </Title>
            <Table aria-labelledby="duplicates-title" data-testid="duplicate-files">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">File</Table.Th>
                  <Table.Th scope="col">Same bytes as item</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {duplicates.map((entry) => (
                  <Table.Tr key={`${entry.name}:${entry.item_id}`}>
                    <Table.Td>{entry.name}</Table.Td>
                    <Table.Td ff="monospace">{entry.item_id}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </section>
        )}

        {rows.length > 0 && (
          <section aria-labelledby="files-title">
            <Title order={2} size="h4" id="files-title" mb="xs">
              Files
            </Title>
            <ScrollArea.Autosize mah={420} type="auto">
              <Table aria-labelledby="files-title" data-testid="upload-files">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">File</Table.Th>
                    <Table.Th scope="col">Size</Table.Th>
                    <Table.Th scope="col">Progress</Table.Th>
                    <Table.Th scope="col">Status</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((row, index) => (
                    <Table.Tr key={`${index}:${row.path}`} data-testid="upload-row" data-status={row.status}>
                      <Table.Td>{row.path}</Table.Td>
                      <Table.Td>{formatBytes(row.file.size)}</Table.Td>
                      <Table.Td>
                        <Progress value={row.progress} w={120} aria-label={`Progress of ${row.path}`} />
                      </Table.Td>
                      <Table.Td>
                        {STATUS_TEXT[row.status]}
                        {row.detail ? ` — ${row.detail}` : ""}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollArea.Autosize>
          </section>
        )}
      </Stack>
    </>
  );
}
