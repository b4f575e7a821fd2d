import { Paper, Text } from "@mantine/core";

/** One count with its name above it, in a small frame (the gallery's header, an import's report). */
export function Figure({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <Paper withBorder px="sm" py={4}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fw={700} data-testid={testId}>
        {value.toLocaleString()}
      </Text>
    </Paper>
  );
}
