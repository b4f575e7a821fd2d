import { Anchor, Button, Group, Paper, SegmentedControl, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { asProblem } from "@/api";
import { EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { paths } from "@/lib/paths";
import { useSearchParam } from "@/lib/useSearchState";

import {
  useArchitectures,
  useBaseRevisions,
  useDatasetRevisions,
  useLineage,
  useProjectTask,
  useStartTraining,
  useTrainingConfiguration,
  type Architecture,
} from "../api/training";
import { ArchitectureCards } from "./ArchitectureCards";
import { HyperparameterForm } from "./HyperparameterForm";
import { fieldsOf, overridesFrom, problemWith, valueAt, type Value, type Values } from "./hyperparameters";

const CURRENT_DATA = "current";

function BaseLineage({ project, revisionId }: { project: string; revisionId: string }) {
  const lineage = useLineage(revisionId);
  if (lineage.isPending) return <LoadingState label="Loading the lineage" />;
  if (lineage.isError) return <ProblemAlert title="Could not load the lineage" error={lineage.error} />;
  const chain = [lineage.data.revision, ...lineage.data.ancestors];
  return (
    <Text size="sm" data-testid="base-lineage">
      Lineage:{" "}
      {chain.map((revision, index) => (
        <span key={revision.id}>
          {index > 0 && " ← "}
          <Anchor component={Link} to={paths.revision(project, revision.id)} underline="always">
            #{revision.number} {revision.name}
          </Anchor>
        </span>
      ))}
    </Text>
  );
}

/** The hyperparameter form of one architecture, starting from the project's stored configuration. */
function TrainingForm({ project, architecture }: { project: string; architecture: Architecture }) {
  const navigate = useNavigate();
  const configuration = useTrainingConfiguration(project, architecture.id);
  const bases = useBaseRevisions(project);
  const datasets = useDatasetRevisions(project);
  const start = useStartTraining(project);
  const [baseParam, setBase] = useSearchParam("base");
  const [dataset, setDataset] = useSearchParam("dataset");
  const [name, setName] = useState("");
  const [edits, setEdits] = useState<Values>({});
  const [tried, setTried] = useState(false);
  const fields = useMemo(() => fieldsOf(architecture.hyperparameters), [architecture]);
  const defaultBase = architecture.pretrained_weights ? "pretrained" : "scratch";
  const base = baseParam ?? defaultBase;
  const baseKind = base === "pretrained" || base === "scratch" ? base : "revision";
  const fineTunable = (bases.data ?? []).filter((revision) => revision.architecture_id === architecture.id);
  const parent = fineTunable.find((revision) => revision.id === base);
  // What the server starts from: a parent's own hyperparameters when fine-tuning, else the project's configuration.
  const resolved = ((parent ? parent.configuration : configuration.data?.hyperparameters) ?? {}) as Record<string, unknown>;
  const values: Values = Object.fromEntries(
    fields.map((field) => [field.path, edits[field.path] ?? (valueAt(resolved, field.path) as Value | undefined) ?? field.default]),
  );
  const invalid = fields.filter((field) => problemWith(field, values[field.path]) !== null);
  const problem = start.error ? asProblem(start.error) : null;
  const serverErrors = Object.fromEntries((problem?.errors ?? []).map((error) => [error.field.replace(/^overrides\./, ""), error.message]));
  const fieldOfProblem = (problem?.errors ?? []).some((error) => fields.some((field) => error.field.endsWith(field.path)));

  if (configuration.isPending) return <LoadingState label="Loading the configuration" />;
  if (configuration.isError) return <ProblemAlert title="Could not load the training configuration" error={configuration.error} />;

  const submit = () => {
    setTried(true);
    if (invalid.length > 0 || (baseKind === "revision" && !base)) return;
    start.mutate(
      {
        architecture: architecture.id,
        base,
        overrides: overridesFrom(fields, values, resolved),
        dataset_revision: dataset && dataset !== CURRENT_DATA ? dataset : null,
        name: name.trim() || null,
      },
      { onSuccess: (job) => navigate(paths.trainingJob(project, job.id)) },
    );
  };

  return (
    <Stack gap="md">
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Base
        </Title>
        <SegmentedControl
          aria-label="Base"
          value={baseKind}
          onChange={(kind) => setBase(kind === "revision" ? (fineTunable[0]?.id ?? "revision") : kind)}
          data={[
            { value: "pretrained", label: "Pretrained", disabled: !architecture.pretrained_weights },
            { value: "scratch", label: "From scratch" },
            { value: "revision", label: "A revision", disabled: fineTunable.length === 0 },
          ]}
        />
        {baseKind === "revision" && (
          <Stack gap="xs" mt="sm">
            <Select
              label="Revision to fine-tune"
              data={fineTunable.map((revision) => ({ value: revision.id, label: `#${revision.number} ${revision.name}` }))}
              value={fineTunable.some((revision) => revision.id === base) ? base : null}
              onChange={(id) => id && setBase(id)}
              allowDeselect={false}
              w={360}
            />
            {fineTunable.some((revision) => revision.id === base) && <BaseLineage project={project} revisionId={base} />}
          </Stack>
        )}
      </Paper>
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Data
        </Title>
        {datasets.isError ? (
          <ProblemAlert title="Could not load the dataset revisions" error={datasets.error} />
        ) : (
          <Select
            label="Dataset revision"
            w={420}
            value={dataset ?? CURRENT_DATA}
            onChange={(choice) => setDataset(choice === CURRENT_DATA ? null : choice)}
            allowDeselect={false}
            data={[
              { value: CURRENT_DATA, label: "Current data (a new revision, or the latest when nothing changed)" },
              ...(datasets.data ?? [])
                .filter((revision) => !revision.files_deleted)
                .map((revision) => ({
                  value: revision.id,
                  label: `#${revision.number}: ${revision.subset_counts.training ?? 0} training, ${revision.subset_counts.validation ?? 0} validation, ${revision.subset_counts.testing ?? 0} testing`,
                })),
            ]}
          />
        )}
      </Paper>
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Hyperparameters
        </Title>
        <HyperparameterForm
          fields={fields}
          values={values}
          serverErrors={serverErrors}
          showErrors={tried}
          onChange={(path, value) => {
            start.reset();
            setEdits((current) => ({ ...current, [path]: value }));
          }}
        />
      </Paper>
      <Group align="flex-end">
        <TextInput label="Revision name (optional)" value={name} onChange={(event) => setName(event.currentTarget.value)} w={320} />
        <Button onClick={submit} loading={start.isPending}>
          Start training
        </Button>
      </Group>
      {tried && invalid.length > 0 && (
        <Text c="red.9" size="sm" role="alert">
          Fix {invalid.map((field) => field.path).join(", ")} before starting.
        </Text>
      )}
      {start.isError && !fieldOfProblem && <ProblemAlert title="The training was not started" error={start.error} />}
      {start.isError && fieldOfProblem && (
        <Text c="red.9" size="sm" role="alert">
          The server refused a hyperparameter: see the field above.
        </Text>
      )}
    </Stack>
  );
}

/** Choose an architecture, a base, the data and the hyperparameters; start a training. */
export function TrainingPage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Training · ${project} · modelyard`);
  const projectQuery = useProjectTask(project);
  const architectures = useArchitectures(projectQuery.data?.task_type);
  const [chosen, setChosen] = useSearchParam("architecture");
  const list = architectures.data ?? [];
  const architecture = list.find((entry) => entry.id === chosen) ?? null;

  return (
    <>
      <PageHeader title="Train a model" description={`Project ${project}: fine-tune an architecture on its data.`} />
      {projectQuery.isError ? (
        <ProblemAlert title={`Could not load project ${project}`} error={projectQuery.error} />
      ) : architectures.isError ? (
        <ProblemAlert title="Could not load the architectures" error={architectures.error} />
      ) : projectQuery.isPending || architectures.isPending ? (
        <LoadingState label="Loading the architectures" />
      ) : list.length === 0 ? (
        <EmptyState title="No architecture for this task">Add a manifest under the data directory's model_manifests.</EmptyState>
      ) : (
        <Stack gap="lg">
          <ArchitectureCards
            architectures={list}
            value={architecture?.id ?? null}
            onChange={setChosen}
          />
          {architecture ? (
            <TrainingForm key={architecture.id} project={project} architecture={architecture} />
          ) : (
            <Text c="dimmed" size="sm">
              Choose an architecture to set the base, the data and the hyperparameters.
            </Text>
          )}
        </Stack>
      )}
    </>
  );
}
