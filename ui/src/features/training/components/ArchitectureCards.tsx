import { Badge, Group, Radio, SimpleGrid, Stack, Text } from "@mantine/core";

import type { Architecture } from "../api/training";

function figure(value: unknown): string {
  return typeof value === "number" ? value.toLocaleString() : String(value ?? "—");
}

/** Speed and size from the manifest's published statistics. */
function stats(architecture: Architecture): { gflops: string; parameters: string; size: string } {
  const { stats: published } = architecture;
  const parameters = typeof published.parameters === "number" ? `${(published.parameters / 1e6).toFixed(1)} M` : "—";
  return { gflops: figure(published.gflops), parameters, size: published.file_size_mb ? `${figure(published.file_size_mb)} MB` : "—" };
}

interface ArchitectureCardsProps {
  architectures: Architecture[];
  value: string | null;
  onChange: (id: string) => void;
}

/** One card per architecture of the project's task: task, speed (GFLOPs), size, reference metrics. */
export function ArchitectureCards({ architectures, value, onChange }: ArchitectureCardsProps) {
  return (
    <Radio.Group value={value} onChange={onChange} label="Architecture" name="architecture">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} mt="xs">
        {architectures.map((architecture) => {
          const figures = stats(architecture);
          const reference = Object.entries((architecture.stats.reference_metrics ?? {}) as Record<string, unknown>);
          return (
            <Radio.Card key={architecture.id} value={architecture.id} p="sm" radius="md" data-testid="architecture-card" aria-label={architecture.name}>
              <Group wrap="nowrap" align="flex-start">
                <Radio.Indicator />
                <Stack gap={4}>
                  <Group gap="xs">
                    <Text fw={700}>{architecture.name}</Text>
                    <Badge size="xs" variant="light" c="indigo.9">
                      {architecture.support_status}
                    </Badge>
                  </Group>
                  <Text size="xs" c="dimmed">
                    {architecture.tasks.join(", ")}
                  </Text>
                  <Text size="sm">{architecture.description}</Text>
                  <Text size="xs" data-testid="architecture-figures">
                    {figures.gflops} GFLOPs · {figures.parameters} parameters · {figures.size}
                  </Text>
                  {reference.map(([name, metric]) => (
                    <Text size="xs" c="dimmed" key={name}>
                      {name}: {figure(metric)}
                    </Text>
                  ))}
                  <Text size="xs" c="dimmed">
                    {architecture.pretrained_weights
                      ? architecture.weights_cached
                        ? "pretrained weights cached"
                        : "pretrained weights not cached yet (downloaded or imported before training)"
                      : "no pretrained weights"}
                  </Text>
                </Stack>
              </Group>
            </Radio.Card>
          );
        })}
      </SimpleGrid>
    </Radio.Group>
  );
}
