import { Group, List, Table, Text, Title } from "@mantine/core";

import { plural } from "@/lib/format";

import type { ImportReport } from "../api/transfers";
import { Figure } from "./Figure";

/** What an import did: items imported and skipped (with why), labels created, subsets, shapes it left out. */
export function ImportReportView({ report }: { report: ImportReport }) {
  const subsets = Object.entries(report.subsets ?? {}).filter(([, count]) => count > 0);
  const ignored = Object.entries(report.ignored_shapes ?? {});
  const dropped = report.shapes?.dropped ?? [];
  return (
    <section aria-labelledby="report-title" data-testid="import-report">
      <Title order={3} size="h5" id="report-title" mb="xs">
        Import report
      </Title>
      <Group gap="sm" mb="sm">
        <Figure label="Imported" value={report.imported} testId="report-imported" />
        <Figure label="Skipped" value={report.skipped_count} testId="report-skipped" />
        <Figure label="Labels created" value={report.labels_created.length} testId="report-labels-created" />
      </Group>
      {report.labels_created.length > 0 && (
        <Text size="sm" data-testid="report-label-names">
          New labels: {report.labels_created.join(", ")}
        </Text>
      )}
      {subsets.length > 0 && (
        <Text size="sm" data-testid="report-subsets">
          Subsets: {subsets.map(([subset, count]) => `${subset} ${count}`).join(", ")}
          {report.split_to_testing > 0 && ` (${plural(report.split_to_testing, "item")} split from training to testing)`}
        </Text>
      )}
      {report.subsets_note && (
        <Text size="sm" c="dimmed">
          {report.subsets_note}
        </Text>
      )}
      {report.annotations_given_to_duplicates > 0 && (
        <Text size="sm">{plural(report.annotations_given_to_duplicates, "duplicate")} gave its annotation to the unannotated item it duplicates.</Text>
      )}
      {ignored.length > 0 && (
        <Text size="sm" data-testid="report-ignored-shapes">
          Shapes ignored (not of this project's task): {ignored.map(([kind, count]) => `${kind} ${count}`).join(", ")}
        </Text>
      )}
      {(report.shapes?.clipped ?? 0) > 0 && <Text size="sm">{plural(report.shapes.clipped, "shape")} clipped to their image.</Text>}
      {dropped.length > 0 && (
        <>
          <Text size="sm" mt="xs">
            {plural(report.shapes.dropped_count, "shape")} dropped:
          </Text>
          <List size="sm">
            {dropped.map((entry) => (
              <List.Item key={`${entry.item}:${entry.reason}`}>
                {entry.item}: {entry.reason}
              </List.Item>
            ))}
          </List>
        </>
      )}
      {report.skipped.length > 0 && (
        <Table mt="sm" aria-label="Skipped items" data-testid="report-skipped-items">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Item</Table.Th>
              <Table.Th scope="col">Why it was skipped</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {report.skipped.map((entry) => (
              <Table.Tr key={`${entry.item}:${entry.reason}`}>
                <Table.Td>{entry.item}</Table.Td>
                <Table.Td>{entry.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </section>
  );
}
