import { Anchor, Button, Grid, Group, NumberInput, Paper, Select, SimpleGrid, Slider, Stack, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatDateTime } from "@/lib/format";
import { paths } from "@/lib/paths";
import { useSearchParam } from "@/lib/useSearchState";

import {
  useDisablePipeline,
  useEnablePipeline,
  usePipeline,
  usePredict,
  useServableRevisions,
  useVariants,
  type PipelineStatus,
} from "../api/pipeline";
import { ImageDropZone } from "./ImageDropZone";
import { PredictionView } from "./PredictionView";

function Figure({ label, value }: { label: string; value: string | number }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="lg" fw={700} data-testid={`metric-${label.toLowerCase().replaceAll(" ", "-")}`}>
        {value}
      </Text>
    </Paper>
  );
}

const ms = (value: number | null | undefined) => (value === null || value === undefined ? "—" : `${value} ms`);

function Serving({ project, status }: { project: string; status: PipelineStatus }) {
  if (!status.enabled) {
    return (
      <Text size="sm" data-testid="pipeline-state">
        Disabled: nothing is served. Choose a revision and a variant to enable it.
      </Text>
    );
  }
  const metrics = status.metrics;
  return (
    <Stack gap="sm">
      <Text size="sm" data-testid="pipeline-state">
        Serving{" "}
        <Anchor underline="always" component={Link} to={paths.revision(project, status.revision_id!)}>
          {status.revision_name || `revision ${status.revision_number}`}
        </Anchor>{" "}
        with <b>{status.variant}</b> at confidence ≥ {status.confidence_threshold} · enabled {formatDateTime(status.enabled_at)} by{" "}
        {status.enabled_by} · {status.loaded ? "loaded" : "loads on the first request"}
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 5 }}>
        <Figure label="Requests" value={metrics?.requests ?? 0} />
        <Figure label="Failed" value={metrics?.failed_requests ?? 0} />
        <Figure label="Images" value={metrics?.images ?? 0} />
        <Figure label="Latency p50" value={ms(metrics?.latency_ms_p50)} />
        <Figure label="Latency p99" value={ms(metrics?.latency_ms_p99)} />
      </SimpleGrid>
    </Stack>
  );
}

function SwapForm({ project, status }: { project: string; status: PipelineStatus }) {
  const revisions = useServableRevisions(project);
  const [revision, setRevision] = useState<string | null>(status.revision_id ?? null);
  const [variant, setVariant] = useState<string | null>(status.variant ?? null);
  const [confidence, setConfidence] = useState<number | string>(status.confidence_threshold ?? 0.5);
  const variants = useVariants(revision);
  const enable = useEnablePipeline(project);
  const disable = useDisablePipeline(project);
  const variantNames = (variants.data ?? []).map((entry) => entry.name);
  const chosenVariant = variant && variantNames.includes(variant) ? variant : null;

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (revision && chosenVariant) enable.mutate({ revision, variant: chosenVariant, confidence_threshold: Number(confidence) });
      }}
    >
      <Stack gap="xs">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <Select
            label="Revision"
            placeholder={revisions.isPending ? "Loading…" : "Choose a trained revision"}
            data={(revisions.data?.items ?? []).map((entry) => ({
              value: entry.id,
              label: `#${entry.number} ${entry.name} (${entry.architecture_id})`,
            }))}
            value={revision}
            onChange={setRevision}
            searchable
            w={320}
          />
          <Select
            label="Variant"
            placeholder={revision ? "Choose a variant" : "Choose a revision first"}
            data={variantNames}
            value={chosenVariant}
            onChange={setVariant}
            disabled={!revision}
            w={200}
          />
          <NumberInput label="Confidence threshold" value={confidence} onChange={setConfidence} min={0} max={1} step={0.05} decimalScale={2} w={170} />
          <Button type="submit" loading={enable.isPending} disabled={!revision || !chosenVariant}>
            {status.enabled ? "Swap" : "Enable"}
          </Button>
          {status.enabled && (
            <Button variant="default" color="red" onClick={() => disable.mutate()} loading={disable.isPending}>
              Disable
            </Button>
          )}
        </Group>
        {revisions.isError && <ProblemAlert title="Could not load the revisions" error={revisions.error} />}
        {variants.isError && <ProblemAlert title="Could not load the variants" error={variants.error} />}
        {enable.isError && <ProblemAlert title="Could not enable the pipeline" error={enable.error} />}
        {disable.isError && <ProblemAlert title="Could not disable the pipeline" error={disable.error} />}
      </Stack>
    </form>
  );
}

/** The project's pipeline: what it serves, swap it, predict dropped images and see what was found on them. */
export function PipelinePage() {
  const { project = "" } = useParams();
  useDocumentTitle(`Pipeline · ${project} · modelyard`);
  const pipeline = usePipeline(project);
  const predict = usePredict(project);
  const [images, setImages] = useState<Record<string, string>>({});
  const [thresholdParam, setThresholdParam] = useSearchParam("threshold");
  const threshold = thresholdParam === null ? 0 : Math.min(1, Math.max(0, Number(thresholdParam) || 0));

  useEffect(() => () => Object.values(images).forEach((url) => URL.revokeObjectURL(url)), [images]);

  if (pipeline.isPending) return <LoadingState label="Loading the pipeline" />;
  if (pipeline.isError) return <ProblemAlert title={`Could not load the pipeline of ${project}`} error={pipeline.error} />;
  const status = pipeline.data;

  const send = (files: File[]) => {
    setImages(Object.fromEntries(files.map((file) => [file.name, URL.createObjectURL(file)])));
    predict.mutate(files);
  };

  return (
    <>
      <PageHeader title="Pipeline" description={`What ${project} serves, and predictions on your images.`} />
      <Stack gap="md">
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="xs">
            Serving
          </Title>
          <Stack gap="md">
            <Serving project={project} status={status} />
            <SwapForm key={`${status.revision_id}-${status.variant}`} project={project} status={status} />
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="xs">
            Predict
          </Title>
          <Grid>
            <Grid.Col span={{ base: 12, md: 8 }}>
              <ImageDropZone onFiles={send} disabled={!status.enabled || predict.isPending} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 4 }}>
              <Text size="sm" id="threshold-label" mb={4}>
                Score threshold: {threshold.toFixed(2)}
              </Text>
              <Slider
                min={0}
                max={1}
                step={0.05}
                value={threshold}
                onChange={(value) => setThresholdParam(value ? String(value) : null)}
                thumbLabel="Score threshold"
                aria-labelledby="threshold-label"
              />
            </Grid.Col>
          </Grid>
          {predict.isPending && <LoadingState label="Predicting" />}
          {predict.isError && <ProblemAlert title="Could not predict" error={predict.error} />}
          {predict.data && (
            <SimpleGrid cols={{ base: 1, md: 2 }} mt="md">
              {predict.data.predictions.map((prediction) => (
                <PredictionView key={prediction.file} prediction={prediction} imageUrl={images[prediction.file]} threshold={threshold} />
              ))}
            </SimpleGrid>
          )}
          {!predict.data && !predict.isPending && !status.enabled && (
            <EmptyState title="The pipeline is disabled">Enable a revision above to predict.</EmptyState>
          )}
        </Paper>
      </Stack>
    </>
  );
}
