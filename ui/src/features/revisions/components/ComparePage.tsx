import { Anchor, Group, Paper, Select, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useMemo } from "react";
import { Link, useParams } from "react-router";

import { EChart, EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { curvesOption, epochRecords } from "@/lib/curves";
import { paths } from "@/lib/paths";
import { useSearchParam } from "@/lib/useSearchState";

import { useRevisionsCompared, type Evaluation, type ModelRevision } from "../api/revisions";
import { figure, flatten, labelFigures, shown } from "./perLabel";

function HyperparameterDiff({ revisions }: { revisions: ModelRevision[] }) {
  const [all, setAll] = useSearchParam("all");
  const flat = revisions.map((revision) => flatten(revision.configuration));
  const keys = [...new Set(flat.flatMap((entry) => Object.keys(entry)))].sort();
  const differs = (key: string) => new Set(flat.map((entry) => shown(entry[key]))).size > 1;
  const rows = all ? keys : keys.filter(differs);
  return (
    <Paper withBorder p="md">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Hyperparameters
        </Title>
        <Switch label="Show the ones that are the same too" checked={Boolean(all)} onChange={(event) => setAll(event.currentTarget.checked ? "1" : null)} />
      </Group>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          The same hyperparameters.
        </Text>
      ) : (
        <Table aria-label="Hyperparameters compared" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Hyperparameter</Table.Th>
              {revisions.map((revision) => (
                <Table.Th scope="col" key={revision.id}>
                  #{revision.number} {revision.name}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((key) => (
              <Table.Tr key={key} data-testid={differs(key) ? "hyperparameter-difference" : "hyperparameter-same"} fw={differs(key) ? 700 : undefined}>
                <Table.Th scope="row">{key}</Table.Th>
                {flat.map((entry, index) => (
                  <Table.Td key={revisions[index]!.id}>{shown(entry[key])}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

function PerLabelComparison({ revisions, evaluations }: { revisions: ModelRevision[]; evaluations: Evaluation[][] }) {
  const variants = [...new Set(evaluations.flat().map((evaluation) => evaluation.variant))].sort();
  const [chosen, setChosen] = useSearchParam("variant");
  const variant = chosen && variants.includes(chosen) ? chosen : (variants[0] ?? null);
  const latest = evaluations.map((list) => list.find((evaluation) => evaluation.variant === variant && evaluation.subset === "testing") ?? null);
  const labels = [...new Set(latest.flatMap((evaluation) => (evaluation ? labelFigures(evaluation).map((entry) => entry.label) : [])))];
  return (
    <Paper withBorder p="md">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Metrics per label (testing subset)
        </Title>
        <Select label="Variant" data={variants} value={variant} onChange={setChosen} allowDeselect={false} w={200} />
      </Group>
      {variant === null ? (
        <Text size="sm" c="dimmed">
          None of these revisions has been evaluated.
        </Text>
      ) : (
        <Table aria-label="Metrics per label compared">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Label</Table.Th>
              {revisions.map((revision) => (
                <Table.Th scope="col" key={revision.id}>
                  #{revision.number} precision / recall / F1 (AP)
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th scope="row">overall</Table.Th>
              {latest.map((evaluation, index) => (
                <Table.Td key={revisions[index]!.id}>{evaluation ? `${evaluation.metric_name} ${figure(evaluation.metric_value)}` : "not evaluated"}</Table.Td>
              ))}
            </Table.Tr>
            {labels.map((label) => (
              <Table.Tr key={label}>
                <Table.Th scope="row">{label}</Table.Th>
                {latest.map((evaluation, index) => {
                  const entry = evaluation ? labelFigures(evaluation).find((item) => item.label === label) : undefined;
                  return (
                    <Table.Td key={revisions[index]!.id}>
                      {entry
                        ? `${figure(entry.precision)} / ${figure(entry.recall)} / ${figure(entry.f1)}${entry.average_precision != null ? ` (${figure(entry.average_precision)})` : ""}`
                        : "—"}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

/** Two or more revisions side by side: hyperparameters that differ, curves overlaid, metrics per label. */
export function ComparePage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Compare models · ${project} · modelyard`);
  const [idsParam] = useSearchParam("ids");
  const ids = useMemo(() => (idsParam ?? "").split(",").filter(Boolean), [idsParam]);
  const { revisions, metrics, evaluations } = useRevisionsCompared(ids);
  const failed = [...revisions, ...evaluations].find((query) => query.isError);
  const loaded = revisions.map((query) => query.data).filter((revision): revision is ModelRevision => Boolean(revision));
  const runs = loaded.map((revision, index) => ({ name: `#${revision.number}`, records: epochRecords((metrics[index]?.data as unknown[] | undefined) ?? []) }));
  const option = curvesOption(runs);

  return (
    <>
      <PageHeader
        title="Compare models"
        description={
          <Anchor component={Link} to={paths.models(project)}>
            Back to the models of {project}
          </Anchor>
        }
      />
      {ids.length < 2 ? (
        <EmptyState title="Choose two or more revisions">Select them on the models page, then press Compare.</EmptyState>
      ) : failed ? (
        <ProblemAlert title="Could not load a revision" error={failed.error} />
      ) : loaded.length < ids.length || evaluations.some((query) => query.isPending) ? (
        <LoadingState label="Loading the revisions" />
      ) : (
        <Stack gap="md">
          <Group gap="md">
            {loaded.map((revision) => (
              <Anchor key={revision.id} component={Link} to={paths.revision(project, revision.id)}>
                #{revision.number} {revision.name} ({revision.architecture_id})
              </Anchor>
            ))}
          </Group>
          <HyperparameterDiff revisions={loaded} />
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="xs">
              Training curves
            </Title>
            <EChart option={option} label="Training loss and validation metric of each revision, overlaid" testId="compare-curves" />
          </Paper>
          <PerLabelComparison revisions={loaded} evaluations={evaluations.map((query) => query.data ?? [])} />
        </Stack>
      )}
    </>
  );
}
