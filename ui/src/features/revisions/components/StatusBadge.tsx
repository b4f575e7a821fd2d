import { Badge } from "@mantine/core";

const COLORS: Record<string, string> = { succeeded: "green", running: "blue", failed: "red", cancelled: "gray" };

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={COLORS[status] ?? "gray"} variant="light" c="dark.7" data-testid="revision-status">
      {status}
    </Badge>
  );
}
