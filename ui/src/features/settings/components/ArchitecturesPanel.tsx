import { Badge, Button, Code, FileButton, Group, Stack, Table, Text } from "@mantine/core";
import { useState, type CSSProperties } from "react";

import { ConfirmDeleteModal, EmptyState, LoadingState, ProblemAlert } from "@/components";
import { useAllowed } from "@/lib/session";

import { useArchitectures, useDeleteWeights, useImportWeights, type Architecture } from "../api/settings";

interface PretrainedWeights {
  url?: string;
  file_name?: string;
  sha256?: string;
  sha256_prefix?: string;
}

function weightsOf(architecture: Architecture): PretrainedWeights | null {
  return (architecture.pretrained_weights as PretrainedWeights | null) ?? null;
}

function WeightsCell({ architecture }: { architecture: Architecture }) {
  const weights = weightsOf(architecture);
  if (!weights) return <Text size="sm">none published</Text>;
  return (
    <Stack gap={2}>
      {architecture.weights_cached ? (
        <Badge variant="light" color="green" style={{ "--badge-color": "var(--mantine-color-dark-9)" } as CSSProperties}>
          cached
        </Badge>
      ) : (
        <Badge variant="light" color="gray" style={{ "--badge-color": "var(--mantine-color-dark-9)" } as CSSProperties}>
          not cached
        </Badge>
      )}
      <Text size="xs" c="dimmed">
        {weights.file_name}
        {weights.sha256 ? ` · sha256 ${weights.sha256.slice(0, 12)}…` : weights.sha256_prefix ? ` · sha256 ${weights.sha256_prefix}…` : ""}
      </Text>
    </Stack>
  );
}

/** Architectures from the manifests and their pretrained weights: import a downloaded file, or drop the cache. */
export function ArchitecturesPanel() {
  const architectures = useArchitectures();
  const importWeights = useImportWeights();
  const deleteWeights = useDeleteWeights();
  const mayWrite = useAllowed("write");
  const mayDelete = useAllowed("admin");
  const [importing, setImporting] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Architecture | null>(null);

  if (architectures.isPending) return <LoadingState label="Loading architectures" />;
  if (architectures.isError) return <ProblemAlert title="Could not load the architectures" error={architectures.error} />;
  if (architectures.data.length === 0) return <EmptyState title="No architectures">No manifest was found.</EmptyState>;

  return (
    <Stack gap="sm">
      <Text size="sm">
        Training from pretrained weights downloads them once. On a server without internet, download the file named
        below elsewhere and import it here: it is accepted only if its SHA-256 matches the manifest.
      </Text>
      {importWeights.isError && <ProblemAlert title={`Weights not imported for ${importing}`} error={importWeights.error} />}
      {importWeights.isSuccess && (
        <Text size="sm" role="status">
          Weights imported for {importing}.
        </Text>
      )}
      <Table aria-label="Architectures" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Architecture</Table.Th>
            <Table.Th scope="col">Tasks</Table.Th>
            <Table.Th scope="col">Parameters</Table.Th>
            <Table.Th scope="col">Pretrained weights</Table.Th>
            <Table.Th scope="col">Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {architectures.data.map((architecture) => {
            const weights = weightsOf(architecture);
            const parameters = Number(architecture.stats.parameters ?? 0);
            return (
              <Table.Tr key={architecture.id} data-testid={`architecture-${architecture.id}`}>
                <Table.Td>
                  <Text size="sm" fw={600}>
                    {architecture.name}
                  </Text>
                  <Code>{architecture.id}</Code>
                </Table.Td>
                <Table.Td>{architecture.tasks.join(", ")}</Table.Td>
                <Table.Td>{parameters ? `${(parameters / 1e6).toFixed(1)} M` : "—"}</Table.Td>
                <Table.Td>
                  <WeightsCell architecture={architecture} />
                </Table.Td>
                <Table.Td>
                  <Group gap="xs">
                    {weights && mayWrite && (
                      <FileButton
                        onChange={(file) => {
                          if (!file) return;
                          setImporting(architecture.id);
                          importWeights.mutate({ architecture: architecture.id, file });
                        }}
                      >
                        {(props) => (
                          <Button
                            {...props}
                            size="xs"
                            variant="default"
                            loading={importWeights.isPending && importing === architecture.id}
                            aria-label={`Import file for ${architecture.id}`}
                          >
                            Import file
                          </Button>
                        )}
                      </FileButton>
                    )}
                    {architecture.weights_cached && mayDelete && (
                      <Button size="xs" color="red" variant="subtle" onClick={() => setDeleting(architecture)} aria-label={`Delete weights of ${architecture.id}`}>
                        Delete weights
                      </Button>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <ConfirmDeleteModal
        opened={deleting !== null}
        onClose={() => {
          deleteWeights.reset();
          setDeleting(null);
        }}
        subject={`the cached weights of ${deleting?.id ?? ""}`}
        consequences={[
          `the file ${deleting ? (weightsOf(deleting)?.file_name ?? "") : ""} (trained revisions keep their own weights)`,
        ]}
        pending={deleteWeights.isPending}
        error={deleteWeights.error}
        onConfirm={() => deleting && deleteWeights.mutate(deleting.id, { onSuccess: () => setDeleting(null) })}
      />
    </Stack>
  );
}
