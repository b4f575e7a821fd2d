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

// Dark fills: white text on them keeps a 4.5:1 contrast.
const STAGE_COLORS: Record<string, string> = { production: "#1e6b30", staging: "#7a4f00", archived: "#495057", none: "#495057" };

export function StageBadge({ stage }: { stage: string }) {
  return (
    <Badge color={STAGE_COLORS[stage] ?? "#495057"} variant={stage === "none" ? "outline" : "filled"} data-testid="stage">
      {stage}
    </Badge>
  );
}
