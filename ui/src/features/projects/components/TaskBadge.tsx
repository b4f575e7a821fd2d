import { Badge } from "@mantine/core";

import { taskLabel, type TaskType } from "../api/projects";

export function TaskBadge({ task }: { task: TaskType }) {
  return (
    <Badge variant="light" color="indigo" c="indigo.9" tt="none">
      {taskLabel(task)}
    </Badge>
  );
}
