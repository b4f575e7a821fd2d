import { Anchor, Badge, Button, Paper, Table, Text, Title } from "@mantine/core";

import { LoadingState, ProblemAlert } from "@/components";
import { formatBytes } from "@/lib/format";

import { useEnableInPipeline, usePipeline, useVariants, type ModelRevision, type Variant } from "../api/revisions";

function number(value: unknown, digits: number): string {
  return typeof value === "number" ? value.toFixed(digits) : "—";
}

function Parity({ variant }: { variant: Variant }) {
  if (!variant.parity) return <Text size="sm">reference</Text>;
  const passed = variant.parity.passed === true;
  const difference = variant.parity.max_probability_difference ?? variant.parity.max_score_difference;
  return (
    <Badge color={passed ? "green" : "red"} variant="light" c="dark.7" tt="none" title={`largest difference ${String(difference ?? "—")}`}>
      {passed ? "passed" : "failed"} {typeof difference === "number" ? `(Δ ${difference.toExponential(1)})` : ""}
    </Badge>
  );
}

/** The exported forms of the revision: size, precision, speed, parity; download one, serve one. */
export function VariantsPanel({ project, revision }: { project: string; revision: ModelRevision }) {
  const variants = useVariants(revision.id);
  const pipeline = usePipeline(project);
  const enable = useEnableInPipeline(project);
  const served = pipeline.data?.enabled && pipeline.data.revision_id === revision.id ? pipeline.data.variant : null;
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Variants
      </Title>
      {variants.isPending ? (
        <LoadingState label="Loading the variants" />
      ) : variants.isError ? (
        <ProblemAlert title="Could not load the variants" error={variants.error} />
      ) : variants.data.length === 0 ? (
        <Text size="sm" c="dimmed">
          No variants: {revision.weights_status === "deleted" ? "the weights were deleted." : "export one."}
        </Text>
      ) : (
        <Table aria-label="Variants" data-testid="variants">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Variant</Table.Th>
              <Table.Th scope="col">Precision</Table.Th>
              <Table.Th scope="col">Size</Table.Th>
              <Table.Th scope="col">Latency p50</Table.Th>
              <Table.Th scope="col">Throughput</Table.Th>
              <Table.Th scope="col">Parity</Table.Th>
              <Table.Th scope="col">Deploy</Table.Th>
              <Table.Th scope="col">Pipeline</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {variants.data.map((variant) => (
              <Table.Tr key={variant.id}>
                <Table.Th scope="row">{variant.name}</Table.Th>
                <Table.Td>{variant.precision}</Table.Td>
                <Table.Td>{formatBytes(variant.size_bytes)}</Table.Td>
                <Table.Td>{variant.speed ? `${number(variant.speed.latency_p50_ms, 1)} ms` : "—"}</Table.Td>
                <Table.Td>{variant.speed ? `${number(variant.speed.throughput_fps, 0)} images/s` : "—"}</Table.Td>
                <Table.Td>
                  <Parity variant={variant} />
                </Table.Td>
                <Table.Td>
                  {variant.format === "pytorch" ? (
                    "—"
                  ) : (
                    <Anchor href={`/api/v1/models/${encodeURIComponent(revision.id)}/variants/${encodeURIComponent(variant.name)}/package`} download size="sm">
                      Download {variant.name} package
                    </Anchor>
                  )}
                </Table.Td>
                <Table.Td>
                  {served === variant.name ? (
                    <Badge color="green" variant="light" c="dark.7">serving</Badge>
                  ) : (
                    <Button
                      size="xs"
                      variant="default"
                      loading={enable.isPending && enable.variables?.variant === variant.name}
                      onClick={() => enable.mutate({ revision: revision.id, variant: variant.name, confidence_threshold: pipeline.data?.confidence_threshold ?? 0.5 })}
                    >
                      Enable {variant.name}
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {enable.isError && <ProblemAlert title="The pipeline was not changed" error={enable.error} />}
    </Paper>
  );
}
