import { Badge, Group, Paper, Skeleton, Text, UnstyledButton } from "@mantine/core";

import { ProblemAlert } from "@/components";
import { useSearchParam } from "@/lib/useSearchState";

import { useCounts } from "../api/gallery";
import { Figure } from "./Figure";

/** The dataset at a glance: items, annotated, reviewed, per subset and per label (a label narrows the gallery). */
export function CountsHeader({ project }: { project: string }) {
  const counts = useCounts(project);
  const [label, setLabel] = useSearchParam("label");
  if (counts.isPending) return <Skeleton h={56} aria-hidden />;
  if (counts.isError) return <ProblemAlert title="Could not count the items" error={counts.error} />;
  const { total, annotated, user_reviewed, subsets, labels } = counts.data;
  return (
    <Group gap="sm" wrap="wrap" align="stretch" aria-label="Counts" role="region">
      <Figure label="Items" value={total} testId="count-total" />
      <Figure label="Annotated" value={annotated} testId="count-annotated" />
      <Figure label="Reviewed" value={user_reviewed} testId="count-reviewed" />
      <Paper withBorder px="sm" py={4}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
          Subsets
        </Text>
        <Group gap={6}>
          {subsets.map((subset) => (
            <Text size="sm" key={subset.subset}>
              {subset.subset} <b data-testid={`count-subset-${subset.subset}`}>{subset.items.toLocaleString()}</b>
            </Text>
          ))}
        </Group>
      </Paper>
      <Paper withBorder px="sm" py={4}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
          Labels
        </Text>
        <Group gap={6}>
          {labels.length === 0 && (
            <Text size="sm" c="dimmed">
              none yet
            </Text>
          )}
          {labels.map((entry) => (
            <UnstyledButton
              key={entry.label_id}
              onClick={() => setLabel(label === entry.label_name ? null : entry.label_name)}
              aria-pressed={label === entry.label_name}
              aria-label={`${entry.label_name}: ${entry.items} items (show only these)`}
            >
              <Badge
                variant={label === entry.label_name ? "filled" : "light"}
                color="gray"
                c={label === entry.label_name ? "white" : "dark"}
                leftSection={<span aria-hidden style={{ width: 10, height: 10, borderRadius: 2, background: entry.color, display: "inline-block" }} />}
              >
                {entry.label_name} <span data-testid={`count-label-${entry.label_name}`}>{entry.items.toLocaleString()}</span>
              </Badge>
            </UnstyledButton>
          ))}
        </Group>
      </Paper>
    </Group>
  );
}
