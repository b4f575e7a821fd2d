import { Button, Checkbox, Group, Select, Stack, Text, TextInput, Textarea } from "@mantine/core";
import { useState } from "react";

import { asProblem } from "@/api";
import { ProblemAlert } from "@/components";

import { STAGES, useChangeStage, useUpdateVersion, type ModelVersion, type Stage } from "../api/registry";

/** Name, description and a label of the label map; a label change on a version in use asks for `force`. */
export function VersionEditor({ version }: { version: ModelVersion }) {
  const update = useUpdateVersion(version.model, version.number);
  const [name, setName] = useState(version.name);
  const [description, setDescription] = useState(version.description);
  const [labelIndex, setLabelIndex] = useState("");
  const [labelName, setLabelName] = useState("");
  const [force, setForce] = useState(false);
  const labelChange = labelIndex.trim() !== "" && labelName.trim() !== "";
  const refusedForUse = update.isError && asProblem(update.error).status === 409;

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        update.mutate(
          {
            ...(name !== version.name ? { name } : {}),
            ...(description !== version.description ? { description } : {}),
            ...(labelChange ? { set_labels: { [labelIndex.trim()]: labelName.trim() } } : {}),
            force,
          },
          {
            onSuccess: () => {
              setLabelIndex("");
              setLabelName("");
              setForce(false);
            },
          },
        );
      }}
    >
      <Stack gap="xs">
        <TextInput label="Name" value={name} onChange={(event) => setName(event.currentTarget.value)} />
        <Textarea label="Description" value={description} onChange={(event) => setDescription(event.currentTarget.value)} autosize minRows={2} />
        <Group align="flex-end" gap="xs">
          <TextInput label="Label index" value={labelIndex} onChange={(event) => setLabelIndex(event.currentTarget.value)} w={110} />
          <TextInput label="Label name" value={labelName} onChange={(event) => setLabelName(event.currentTarget.value)} w={180} />
        </Group>
        {(refusedForUse || force) && (
          <Checkbox
            label="Change the label map even though the version holds an alias or a serving stage (force)"
            checked={force}
            onChange={(event) => setForce(event.currentTarget.checked)}
          />
        )}
        <Group>
          <Button type="submit" loading={update.isPending}
                  disabled={name === version.name && description === version.description && !labelChange}>
            Save version
          </Button>
        </Group>
        {update.isError && <ProblemAlert title="Could not save the version" error={update.error} />}
      </Stack>
    </form>
  );
}

export function StageMover({ version }: { version: ModelVersion }) {
  const change = useChangeStage(version.model, version.number);
  const [stage, setStage] = useState<Stage>(version.stage);
  const [archiveExisting, setArchiveExisting] = useState(false);
  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="sm">
        <Select
          label="Stage"
          data={STAGES}
          value={stage}
          onChange={(value) => value && setStage(value as Stage)}
          allowDeselect={false}
          w={160}
        />
        <Button onClick={() => change.mutate({ stage, archiveExisting })} loading={change.isPending} disabled={stage === version.stage}>
          Move to stage
        </Button>
      </Group>
      <Checkbox
        label="Archive the versions now in that stage"
        checked={archiveExisting}
        onChange={(event) => setArchiveExisting(event.currentTarget.checked)}
      />
      {change.isSuccess && <Text size="sm" c="green" role="status">Version {version.number} is in {change.data.stage} now.</Text>}
      {change.isError && <ProblemAlert title="Could not move the version" error={change.error} />}
    </Stack>
  );
}
