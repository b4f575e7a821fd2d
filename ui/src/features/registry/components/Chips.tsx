import { Badge, Group, Text } from "@mantine/core";

/** Tags as `key: value` badges. */
export function TagChips({ tags }: { tags: Record<string, string> }) {
  const entries = Object.entries(tags);
  if (entries.length === 0) return <Text span c="dimmed" size="sm">—</Text>;
  return (
    <Group gap={4}>
      {entries.map(([key, value]) => (
        <Badge key={key} variant="outline" color="gray" tt="none" data-testid="tag-chip">
          {value ? `${key}: ${value}` : key}
        </Badge>
      ))}
    </Group>
  );
}

export function NameChips({ names, testId }: { names: string[]; testId: string }) {
  if (names.length === 0) return <Text span c="dimmed" size="sm">—</Text>;
  return (
    <Group gap={4}>
      {names.map((name) => (
        <Badge key={name} variant="light" tt="none" data-testid={testId}>
          {name}
        </Badge>
      ))}
    </Group>
  );
}

const STAGE_COLORS: Record<string, string> = { production: "green", staging: "yellow", archived: "gray", none: "gray" };

export function StageBadge({ stage }: { stage: string }) {
  return (
    <Badge color={STAGE_COLORS[stage] ?? "gray"} variant={stage === "none" ? "outline" : "light"} data-testid="stage">
      {stage}
    </Badge>
  );
}
