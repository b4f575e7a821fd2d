import { Group, Text } from "@mantine/core";

import type { Project } from "../api/projects";

import classes from "./LabelChips.module.css";

/** Labels as their colour and name, with the hotkey when there is one. */
export function LabelChips({ labels, max = 6 }: { labels: Project["labels"]; max?: number }) {
  if (labels.length === 0) return <Text size="sm" c="dimmed">no labels</Text>;
  const shown = labels.slice(0, max);
  return (
    <Group gap={6} wrap="wrap">
      {shown.map((label) => (
        <span key={label.id} className={classes.chip} data-testid="label-chip">
          <span className={classes.swatch} style={{ background: label.color }} aria-hidden />
          {label.name}
          {label.hotkey && <kbd className={classes.hotkey}>{label.hotkey}</kbd>}
        </span>
      ))}
      {labels.length > max && <Text size="xs">+{labels.length - max} more</Text>}
    </Group>
  );
}
