import { Badge } from "@mantine/core";
import type { CSSProperties } from "react";

import { taskLabel, type TaskType } from "../api/projects";

export function TaskBadge({ task }: { task: TaskType }) {
  return (
    <Badge variant="light" color="indigo" tt="none" style={{ "--badge-color": "var(--mantine-color-indigo-9)" } as CSSProperties}>
      {taskLabel(task)}
    </Badge>
  );
}
