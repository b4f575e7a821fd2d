import { Button, CloseButton, Code, Group, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useState } from "react";

import { ProblemAlert } from "@/components";

import { useUpdateModel, type RegisteredModel } from "../api/registry";

function parseObject(text: string): Record<string, unknown> | string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    return "Give a JSON object, e.g. {\"owner\": \"ana\"}.";
  } catch (error) {
    return `Not JSON: ${(error as Error).message}`;
  }
}

export function DescriptionEditor({ model }: { model: RegisteredModel }) {
  const update = useUpdateModel(model.name);
  const [text, setText] = useState(model.description);
  return (
    <Stack gap="xs">
      <Textarea label="Description" value={text} onChange={(event) => setText(event.currentTarget.value)} autosize minRows={2} />
      <Group>
        <Button size="xs" variant="default" disabled={text === model.description} loading={update.isPending}
                onClick={() => update.mutate({ description: text })}>
          Save description
        </Button>
      </Group>
      {update.isError && <ProblemAlert title="Could not save the description" error={update.error} />}
    </Stack>
  );
}

/** Metadata: merge top-level keys from a JSON object, or remove keys. */
export function MetadataEditor({ model }: { model: RegisteredModel }) {
  const update = useUpdateModel(model.name);
  const [merge, setMerge] = useState("");
  const [remove, setRemove] = useState("");
  const parsed = merge.trim() ? parseObject(merge) : null;
  return (
    <Stack gap="xs">
      <Text size="sm" fw={600}>
        Metadata
      </Text>
      <Code block data-testid="metadata">
        {JSON.stringify(model.metadata, null, 2)}
      </Code>
      <Textarea
        label="Merge (a JSON object: its top-level keys are added or replaced)"
        value={merge}
        onChange={(event) => setMerge(event.currentTarget.value)}
        error={typeof parsed === "string" ? parsed : undefined}
        autosize
        minRows={2}
      />
      <TextInput
        label="Remove keys (comma separated)"
        value={remove}
        onChange={(event) => setRemove(event.currentTarget.value)}
      />
      <Group>
        <Button
          size="xs"
          disabled={(parsed === null || typeof parsed === "string") && !remove.trim()}
          loading={update.isPending}
          onClick={() =>
            update.mutate(
              {
                ...(parsed && typeof parsed !== "string" ? { add_metadata: parsed } : {}),
                ...(remove.trim()
                  ? { remove_metadata: remove.split(",").map((key) => key.trim()).filter(Boolean) }
                  : {}),
              },
              {
                onSuccess: () => {
                  setMerge("");
                  setRemove("");
                },
              },
            )
          }
        >
          Apply to metadata
        </Button>
      </Group>
      {update.isError && <ProblemAlert title="Could not change the metadata" error={update.error} />}
    </Stack>
  );
}

/** Tags (key: value) and labels: each removable, new ones added. */
export function TagsAndLabelsEditor({ model }: { model: RegisteredModel }) {
  const update = useUpdateModel(model.name);
  const [tagKey, setTagKey] = useState("");
  const [tagValue, setTagValue] = useState("");
  const [label, setLabel] = useState("");
  return (
    <Stack gap="xs">
      <Text size="sm" fw={600}>
        Tags
      </Text>
      <Group gap="xs" data-testid="tags">
        {Object.entries(model.tags).map(([key, value]) => (
          <Group key={key} gap={2} wrap="nowrap">
            <Code>{value ? `${key}: ${value}` : key}</Code>
            <CloseButton size="sm" aria-label={`Remove tag ${key}`} onClick={() => update.mutate({ remove_tags: [key] })} />
          </Group>
        ))}
        {Object.keys(model.tags).length === 0 && <Text size="sm" c="dimmed">No tags.</Text>}
      </Group>
      <Group align="flex-end" gap="xs">
        <TextInput label="Tag key" value={tagKey} onChange={(event) => setTagKey(event.currentTarget.value)} w={140} />
        <TextInput label="Tag value" value={tagValue} onChange={(event) => setTagValue(event.currentTarget.value)} w={140} />
        <Button size="xs" variant="default" disabled={!tagKey.trim()}
                onClick={() => update.mutate({ set_tags: { [tagKey.trim()]: tagValue } }, { onSuccess: () => { setTagKey(""); setTagValue(""); } })}>
          Add tag
        </Button>
      </Group>
      <Text size="sm" fw={600} mt="xs">
        Labels
      </Text>
      <Group gap="xs" data-testid="labels">
        {model.labels.map((name) => (
          <Group key={name} gap={2} wrap="nowrap">
            <Code>{name}</Code>
            <CloseButton size="sm" aria-label={`Remove label ${name}`} onClick={() => update.mutate({ remove_labels: [name] })} />
          </Group>
        ))}
        {model.labels.length === 0 && <Text size="sm" c="dimmed">No labels.</Text>}
      </Group>
      <Group align="flex-end" gap="xs">
        <TextInput label="New label" value={label} onChange={(event) => setLabel(event.currentTarget.value)} w={180} />
        <Button size="xs" variant="default" disabled={!label.trim()}
                onClick={() => update.mutate({ add_labels: [label.trim()] }, { onSuccess: () => setLabel("") })}>
          Add label
        </Button>
      </Group>
      {update.isError && <ProblemAlert title="Could not change the tags or labels" error={update.error} />}
    </Stack>
  );
}
