import { ActionIcon, Button, ColorInput, Group, Modal, Select, Stack, Text, TextInput, Textarea } from "@mantine/core";
import { useState, type FormEvent } from "react";

import { ProblemAlert } from "@/components";

import { TASK_TYPES, useCreateProject, type Project, type TaskType } from "../api/projects";

interface LabelDraft {
  key: number;
  name: string;
  color: string;
  hotkey: string;
}

const PALETTE = ["#e03131", "#1971c2", "#2f9e44", "#f08c00", "#9c36b5", "#0c8599", "#e8590c", "#5c940d"];

function newLabel(key: number): LabelDraft {
  return { key, name: "", color: PALETTE[key % PALETTE.length]!, hotkey: String((key % 9) + 1) };
}

/** A project's name, task and labels (each with colour and hotkey), created in one request. */
export function CreateProjectModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (project: Project) => void;
}) {
  const create = useCreateProject();
  const [name, setName] = useState("");
  const [task, setTask] = useState<TaskType>("multiclass_classification");
  const [description, setDescription] = useState("");
  const [labels, setLabels] = useState<LabelDraft[]>([newLabel(0), newLabel(1)]);
  const [nextKey, setNextKey] = useState(2);

  const reset = () => {
    setName("");
    setDescription("");
    setLabels([newLabel(0), newLabel(1)]);
    setNextKey(2);
    create.reset();
  };
  const close = () => {
    reset();
    onClose();
  };
  const update = (key: number, change: Partial<LabelDraft>) =>
    setLabels((current) => current.map((label) => (label.key === key ? { ...label, ...change } : label)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      {
        name: name.trim(),
        task_type: task,
        description,
        labels: labels
          .filter((label) => label.name.trim())
          .map((label) => ({ name: label.name.trim(), color: label.color, hotkey: label.hotkey.trim() || null })),
      },
      {
        onSuccess: (project) => {
          reset();
          onCreated(project);
        },
      },
    );
  };

  return (
    <Modal opened={opened} onClose={close} title="New project" size="lg">
      <form onSubmit={submit}>
        <Stack gap="sm">
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus />
          <Select
            label="Task"
            data={TASK_TYPES}
            value={task}
            onChange={(value) => value && setTask(value as TaskType)}
            allowDeselect={false}
          />
          <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} autosize />
          <Text size="sm" fw={500} id="labels-heading">
            Labels
          </Text>
          <Stack gap="xs" role="group" aria-labelledby="labels-heading">
            {labels.map((label, index) => (
              <Group key={label.key} gap="xs" align="flex-end" wrap="nowrap" data-testid="label-row">
                <TextInput
                  label={`Label ${index + 1} name`}
                  value={label.name}
                  onChange={(e) => update(label.key, { name: e.currentTarget.value })}
                  style={{ flex: 2 }}
                />
                <ColorInput
                  label={`Label ${index + 1} colour`}
                  value={label.color}
                  onChange={(color) => update(label.key, { color })}
                  format="hex"
                  style={{ flex: 1.4 }}
                />
                <TextInput
                  label={`Label ${index + 1} hotkey`}
                  value={label.hotkey}
                  onChange={(e) => update(label.key, { hotkey: e.currentTarget.value })}
                  style={{ flex: 1 }}
                />
                <ActionIcon
                  variant="default"
                  size="lg"
                  aria-label={`Remove label ${index + 1}`}
                  onClick={() => setLabels((current) => current.filter((item) => item.key !== label.key))}
                >
                  ×
                </ActionIcon>
              </Group>
            ))}
            <Button
              variant="subtle"
              w="fit-content"
              onClick={() => {
                setLabels((current) => [...current, newLabel(nextKey)]);
                setNextKey(nextKey + 1);
              }}
            >
              Add label
            </Button>
          </Stack>
          {create.isError && <ProblemAlert title="Project not created" error={create.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
              Create project
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
