import { Button, Group, Modal, Stack, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";

import { ProblemAlert } from "@/components";

import { useRenameProject, type Project } from "../api/projects";

export function RenameProjectModal({
  project,
  opened,
  onClose,
  onRenamed,
}: {
  project: Project;
  opened: boolean;
  onClose: () => void;
  onRenamed: (project: Project) => void;
}) {
  const rename = useRenameProject(project.name);
  const [name, setName] = useState(project.name);
  const close = () => {
    rename.reset();
    setName(project.name);
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate(name.trim(), { onSuccess: onRenamed });
  };
  return (
    <Modal opened={opened} onClose={close} title={`Rename ${project.name}`}>
      <form onSubmit={submit}>
        <Stack gap="sm">
          <TextInput label="New name" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus />
          {rename.isError && <ProblemAlert title="Not renamed" error={rename.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={rename.isPending} disabled={!name.trim() || name.trim() === project.name}>
              Rename
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
