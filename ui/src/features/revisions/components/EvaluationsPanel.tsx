import { Paper, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMemo } from "react";

import { EChart, LoadingState, ProblemAlert } from "@/components";
import { formatDateTime } from "@/lib/format";
import { useSearchParam } from "@/lib/useSearchState";

import { useEvaluations, type Evaluation, type ModelRevision } from "../api/revisions";
import { figure, labelFigures } from "./perLabel";

function confusionOption(evaluation: Evaluation, labels: string[]) {
  const matrix = evaluation.confusion_matrix ?? [];
  const cells = matrix.flatMap((row, actual) => row.map((count, predicted) => [predicted, actual, count]));
  const largest = Math.max(1, ...cells.map((cell) => cell[2]!));
  return {
    animation: false,
    tooltip: { position: "top" },
    grid: { left: 90, right: 24, top: 16, bottom: 64 },
    xAxis: { type: "category", data: labels, name: "predicted", nameLocation: "middle", nameGap: 28, splitArea: { show: true } },
    yAxis: { type: "category", data: labels, name: "actual", inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: largest, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80 },
    series: [{ type: "heatmap", data: cells, label: { show: true } }],
  };
}

function ConfusionMatrix({ evaluation, labels }: { evaluation: Evaluation; labels: string[] }) {
  const option = useMemo(() => confusionOption(evaluation, labels), [evaluation, labels]);
  const matrix = evaluation.confusion_matrix ?? [];
  return (
    <Stack gap="xs">
      <EChart option={option} label={`Confusion matrix of ${evaluation.variant} on the ${evaluation.subset} subset`} testId="confusion-matrix" height={80 + labels.length * 48} />
      <Table aria-label="Confusion matrix (rows: actual, columns: predicted)" fz="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">actual \ predicted</Table.Th>
            {labels.map((label) => (
              <Table.Th scope="col" key={label}>
                {label}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {matrix.map((row, actual) => (
            <Table.Tr key={labels[actual] ?? actual}>
              <Table.Th scope="row">{labels[actual]}</Table.Th>
              {row.map((count, predicted) => (
                <Table.Td key={predicted}>{count}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/** Every evaluation (variant x subset x dataset revision); the chosen one's figures per label and its matrix. */
export function EvaluationsPanel({ revision }: { revision: ModelRevision }) {
  const evaluations = useEvaluations(revision.id);
  const [chosen, setChosen] = useSearchParam("evaluation");
  const labels = revision.labels.map((label) => label.name);
  if (evaluations.isPending) return <LoadingState label="Loading the evaluations" />;
  if (evaluations.isError) return <ProblemAlert title="Could not load the evaluations" error={evaluations.error} />;
  const list = evaluations.data;
  const current = list.find((evaluation) => evaluation.id === chosen) ?? list[0];
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Evaluations
      </Title>
      {!current ? (
        <Text size="sm" c="dimmed">
          Not evaluated yet: evaluate a variant (the training evaluates on the testing subset when it has images).
        </Text>
      ) : (
        <Stack gap="sm">
          <Table aria-label="Evaluations" data-testid="evaluations">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Variant</Table.Th>
                <Table.Th scope="col">Subset</Table.Th>
                <Table.Th scope="col">Images</Table.Th>
                <Table.Th scope="col">Metric</Table.Th>
                <Table.Th scope="col">When</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((evaluation) => (
                <Table.Tr key={evaluation.id} fw={evaluation.id === current.id ? 700 : undefined}>
                  <Table.Td>{evaluation.variant}</Table.Td>
                  <Table.Td>{evaluation.subset}</Table.Td>
                  <Table.Td>{evaluation.item_count}</Table.Td>
                  <Table.Td>
                    {evaluation.metric_name} {figure(evaluation.metric_value)}
                  </Table.Td>
                  <Table.Td>{formatDateTime(evaluation.created_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Select
            label="Show the evaluation"
            w={360}
            allowDeselect={false}
            value={current.id}
            onChange={setChosen}
            data={list.map((evaluation) => ({ value: evaluation.id, label: `${evaluation.variant} on ${evaluation.subset} (${formatDateTime(evaluation.created_at)})` }))}
          />
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Table aria-label="Metrics per label" data-testid="per-label">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Label</Table.Th>
                  <Table.Th scope="col">Precision</Table.Th>
                  <Table.Th scope="col">Recall</Table.Th>
                  <Table.Th scope="col">F1</Table.Th>
                  <Table.Th scope="col">AP</Table.Th>
                  <Table.Th scope="col">Support</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {labelFigures(current).map((entry) => (
                  <Table.Tr key={entry.label}>
                    <Table.Th scope="row">{entry.label}</Table.Th>
                    <Table.Td>{figure(entry.precision)}</Table.Td>
                    <Table.Td>{figure(entry.recall)}</Table.Td>
                    <Table.Td>{figure(entry.f1)}</Table.Td>
                    <Table.Td>{figure(entry.average_precision)}</Table.Td>
                    <Table.Td>{entry.support ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {current.confusion_matrix ? (
              <ConfusionMatrix evaluation={current} labels={labels} />
            ) : (
              <Text size="sm" c="dimmed">
                No confusion matrix for this task: {Object.entries(current.metrics).map(([name, value]) => `${name} ${figure(value)}`).join(", ")}
              </Text>
            )}
          </SimpleGrid>
        </Stack>
      )}
    </Paper>
  );
}
