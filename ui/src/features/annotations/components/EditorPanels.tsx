import { ActionIcon, Badge, Button, Group, NativeSelect, Paper, Stack, Text, Title } from "@mantine/core";

import { ProblemAlert } from "@/components";

import type { Label, LabelsUsage, Proposal, TaskType } from "../api/annotations";
import { polygonBounds, type Draft } from "./draft";

const isClassification = (task: TaskType) => task.endsWith("classification");

function Swatch({ color }: { color: string }) {
  return <span aria-hidden style={{ width: 12, height: 12, borderRadius: 3, background: color, border: "1px solid #0004" }} />;
}

interface LabelPickerProps {
  task: TaskType;
  labels: Label[];
  draft: Draft;
  currentLabel: string | null;
  onPick: (labelId: string) => void;
}

/**
 * The project's labels with their hotkeys. Classification: pressing one picks it (multiclass) or toggles it
 * (multilabel). Shapes: it is the label of new shapes, and of the selected shape.
 */
export function LabelPicker({ task, labels, draft, currentLabel, onPick }: LabelPickerProps) {
  const classification = isClassification(task);
  return (
    <Paper withBorder p="sm">
      <Title order={2} size="h5" mb="xs" id="editor-labels">
        {classification ? (task === "multiclass_classification" ? "Label (pick one)" : "Labels (toggle)") : "Label of shapes"}
      </Title>
      <Group gap={6} role="group" aria-labelledby="editor-labels">
        {labels.map((label) => {
          const pressed = classification ? draft.labels.includes(label.id) : currentLabel === label.id;
          return (
            <Button
              key={label.id}
              size="xs"
              variant={pressed ? "filled" : "default"}
              color="dark"
              aria-pressed={pressed}
              onClick={() => onPick(label.id)}
              leftSection={<Swatch color={label.color} />}
              rightSection={label.hotkey ? <kbd>{label.hotkey}</kbd> : undefined}
              data-testid="label-button"
            >
              {label.name}
            </Button>
          );
        })}
      </Group>
      {labels.length === 0 && (
        <Text size="sm" c="dimmed">
          The project has no labels: add them on the Labels page.
        </Text>
      )}
    </Paper>
  );
}

interface ShapeListProps {
  task: TaskType;
  labels: Label[];
  draft: Draft;
  selected: string | null;
  onSelect: (key: string) => void;
  onRelabel: (key: string, labelId: string) => void;
  onDelete: (key: string) => void;
}

const pixels = (value: number) => value.toFixed(1);

/** The boxes or polygons of the draft: select, change the label, delete. */
export function ShapeList({ task, labels, draft, selected, onSelect, onRelabel, onDelete }: ShapeListProps) {
  if (isClassification(task)) return null;
  const shapes =
    task === "detection"
      ? draft.boxes.map((box) => ({
          key: box.key,
          labelId: box.labelId,
          text: `${pixels(box.x)}, ${pixels(box.y)} · ${pixels(box.width)}×${pixels(box.height)}`,
        }))
      : draft.polygons.map((polygon) => {
          const bounds = polygonBounds(polygon.points);
          return {
            key: polygon.key,
            labelId: polygon.labelId,
            text: `${polygon.points.length} points · box ${pixels(bounds.x)}, ${pixels(bounds.y)} · ${pixels(bounds.width)}×${pixels(bounds.height)}`,
          };
        });
  const noun = task === "detection" ? "Boxes" : "Polygons";
  return (
    <Paper withBorder p="sm">
      <Title order={2} size="h5" mb="xs">
        {noun} ({shapes.length})
      </Title>
      {shapes.length === 0 && (
        <Text size="sm" c="dimmed">
          None yet: draw one on the image (an empty list saves “no object”).
        </Text>
      )}
      <Stack gap={4} component="ul" m={0} p={0} style={{ listStyle: "none" }} data-testid="shape-list">
        {shapes.map((shape, index) => (
          <Group
            key={shape.key}
            component="li"
            gap={6}
            wrap="nowrap"
            p={4}
            style={{ borderRadius: 4, background: shape.key === selected ? "var(--mantine-color-blue-light)" : undefined }}
            data-testid="shape-row"
          >
            <Button size="compact-xs" variant="subtle" onClick={() => onSelect(shape.key)} aria-pressed={shape.key === selected}>
              #{index + 1}
            </Button>
            <NativeSelect
              size="xs"
              aria-label={`Label of ${noun.toLowerCase().slice(0, -1)} ${index + 1}`}
              value={shape.labelId}
              onChange={(event) => onRelabel(shape.key, event.currentTarget.value)}
              data={labels.map((label) => ({ value: label.id, label: label.name }))}
            />
            <Text size="xs" c="dimmed" style={{ flex: 1 }} data-testid="shape-geometry">
              {shape.text}
            </Text>
            <ActionIcon
              size="sm"
              variant="subtle"
              color="red"
              aria-label={`Delete ${noun.toLowerCase().slice(0, -1)} ${index + 1}`}
              onClick={() => onDelete(shape.key)}
            >
              ×
            </ActionIcon>
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}

interface ProposalPanelProps {
  proposal: Proposal | undefined;
  pending: boolean;
  error: unknown;
  shown: boolean;
  onAccept: () => void;
  onEdit: () => void;
  onReject: () => void;
}

/** The enabled model's prediction for the item: accept it (saved as reviewed), edit it, or reject it. */
export function ProposalPanel({ proposal, pending, error, shown, onAccept, onEdit, onReject }: ProposalPanelProps) {
  return (
    <Paper withBorder p="sm" data-testid="proposal">
      <Title order={2} size="h5" mb="xs">
        Model proposal
      </Title>
      {pending && (
        <Text size="sm" c="dimmed" role="status">
          Asking the enabled model…
        </Text>
      )}
      {Boolean(error) && <ProblemAlert title="No proposal" error={error} />}
      {proposal && !shown && (
        <Text size="sm" c="dimmed">
          Accepted, edited, rejected, or older than the item's last save.
        </Text>
      )}
      {proposal && shown && (
        <Stack gap="xs">
          <Text size="xs" c="dimmed">
            {proposal.variant} at confidence ≥ {proposal.confidence_threshold.toFixed(2)}
          </Text>
          <Group gap={4} data-testid="proposal-content">
            {(proposal.labels ?? []).map((label) => (
              <Badge key={label.id} variant="light" color="dark" tt="none">
                {label.name} {label.score.toFixed(2)}
              </Badge>
            ))}
            {(proposal.boxes ?? []).length > 0 && <Text size="sm">{proposal.boxes!.length} boxes</Text>}
            {(proposal.polygons ?? []).length > 0 && <Text size="sm">{proposal.polygons!.length} polygons</Text>}
            {!proposal.labels?.length && !proposal.boxes?.length && !proposal.polygons?.length && (
              <Text size="sm">Nothing found above the threshold.</Text>
            )}
          </Group>
          <Group gap="xs">
            <Button size="xs" onClick={onAccept}>
              Accept proposal
            </Button>
            <Button size="xs" variant="default" onClick={onEdit}>
              Edit proposal
            </Button>
            <Button size="xs" variant="subtle" color="red" onClick={onReject}>
              Reject proposal
            </Button>
          </Group>
        </Stack>
      )}
    </Paper>
  );
}

/** How far the labelling is: annotated items and the items of each label, refreshed after each save. */
export function Progress({ usage }: { usage: LabelsUsage | undefined }) {
  if (!usage) return null;
  return (
    <Paper withBorder p="sm" data-testid="progress">
      <Title order={2} size="h5" mb={4}>
        Progress
      </Title>
      <Text size="sm" data-testid="annotated-count">
        {usage.annotated_items} of {usage.items} items annotated
      </Text>
      <Stack gap={0} mt={4} component="ul" m={0} pl="md">
        {usage.labels.map((label) => (
          <Text size="xs" component="li" key={label.label_id} data-testid={`label-count-${label.label_name}`}>
            {label.label_name}: {label.items} items
            {label.shapes !== label.items ? `, ${label.shapes} shapes` : ""}
          </Text>
        ))}
      </Stack>
    </Paper>
  );
}
