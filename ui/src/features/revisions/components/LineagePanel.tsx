import { Anchor, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useMemo } from "react";
import { Link, useNavigate } from "react-router";

import { EChart, LoadingState, ProblemAlert } from "@/components";
import { paths } from "@/lib/paths";

import { useLineage, type ModelRevision } from "../api/revisions";

interface GraphNode {
  id: string;
  name: string;
  to: string;
  x: number;
  y: number;
  symbol: string;
  symbolSize: number;
  itemStyle: { color: string };
}

/** Parents above, the revision in the middle, children below; each revision's dataset revision on its left. */
function graphOf(project: string, revision: ModelRevision, ancestors: ModelRevision[], descendants: ModelRevision[]) {
  const nodes: GraphNode[] = [];
  const links: { source: string; target: string }[] = [];
  const datasets = new Map<string, number>();
  const place = (entry: ModelRevision, level: number, column: number, color: string) => {
    nodes.push({ id: entry.id, name: `#${entry.number} ${entry.name}`, to: paths.revision(project, entry.id), x: 200 + column * 180, y: level * 90, symbol: "circle", symbolSize: 26, itemStyle: { color } });
    if (!datasets.has(entry.dataset_revision_id)) {
      datasets.set(entry.dataset_revision_id, level);
      nodes.push({ id: `dataset:${entry.dataset_revision_id}`, name: `dataset ${entry.dataset_revision_id.slice(0, 8)}`, to: `${paths.models(project)}?dataset=${entry.dataset_revision_id}`, x: 0, y: level * 90, symbol: "rect", symbolSize: 18, itemStyle: { color: "#868e96" } });
    }
    links.push({ source: `dataset:${entry.dataset_revision_id}`, target: entry.id });
  };
  [...ancestors].reverse().forEach((entry, index) => place(entry, index, 0, "#5c7cfa"));
  place(revision, ancestors.length, 0, "#2b8a3e");
  const levels = new Map<string, number>([[revision.id, ancestors.length]]);
  const perLevel = new Map<number, number>();
  descendants.forEach((entry) => {
    const level = (levels.get(entry.parent_id ?? "") ?? ancestors.length) + 1;
    levels.set(entry.id, level);
    const column = perLevel.get(level) ?? 0;
    perLevel.set(level, column + 1);
    place(entry, level, column, "#e8590c");
  });
  [...ancestors, revision, ...descendants].forEach((entry) => entry.parent_id && levels.has(entry.parent_id) && links.push({ source: entry.parent_id, target: entry.id }));
  ancestors.forEach((entry, index) => index > 0 && links.push({ source: entry.id, target: ancestors[index - 1]!.id }));
  if (ancestors[0]) links.push({ source: ancestors[0].id, target: revision.id });
  return {
    animation: false,
    tooltip: { formatter: "{b}" },
    series: [
      {
        type: "graph",
        layout: "none",
        roam: true,
        label: { show: true, position: "right", fontSize: 11 },
        edgeSymbol: ["none", "arrow"],
        lineStyle: { color: "#adb5bd" },
        data: nodes,
        links: links.filter((link, index) => links.findIndex((other) => other.source === link.source && other.target === link.target) === index),
      },
    ],
  };
}

/** Where the revision comes from and what came of it: a clickable graph, and the same as links. */
export function LineagePanel({ project, revision }: { project: string; revision: ModelRevision }) {
  const navigate = useNavigate();
  const lineage = useLineage(revision.id);
  const option = useMemo(
    () => (lineage.data ? graphOf(project, lineage.data.revision, lineage.data.ancestors, lineage.data.descendants) : null),
    [lineage.data, project],
  );
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Lineage
      </Title>
      {lineage.isPending ? (
        <LoadingState label="Loading the lineage" />
      ) : lineage.isError ? (
        <ProblemAlert title="Could not load the lineage" error={lineage.error} />
      ) : (
        <Stack gap="xs">
          {option && (
            <EChart
              option={option}
              height={Math.max(160, (lineage.data.ancestors.length + lineage.data.descendants.length + 1) * 90)}
              label={`Lineage of revision ${revision.number}: ${lineage.data.ancestors.length} parents, ${lineage.data.descendants.length} children`}
              onItemClick={(data) => {
                const to = (data as { to?: string } | undefined)?.to;
                if (to) navigate(to);
              }}
              testId="lineage-graph"
            />
          )}
          <Group gap="xs" data-testid="lineage-links">
            <Text size="sm">Parents:</Text>
            {lineage.data.ancestors.length === 0 && <Text size="sm">none ({revision.base})</Text>}
            {lineage.data.ancestors.map((entry) => (
              <Anchor key={entry.id} component={Link} to={paths.revision(project, entry.id)} size="sm">
                #{entry.number} {entry.name}
              </Anchor>
            ))}
          </Group>
          <Group gap="xs">
            <Text size="sm">Children:</Text>
            {lineage.data.descendants.length === 0 && <Text size="sm">none</Text>}
            {lineage.data.descendants.map((entry) => (
              <Anchor key={entry.id} component={Link} to={paths.revision(project, entry.id)} size="sm">
                #{entry.number} {entry.name}
              </Anchor>
            ))}
          </Group>
        </Stack>
      )}
    </Paper>
  );
}
