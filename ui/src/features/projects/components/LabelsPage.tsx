import { Button, ColorInput, Group, Modal, Paper, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useState, type FormEvent } from "react";
import { useParams } from "react-router";

import { ConfirmDeleteModal, EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { plural } from "@/lib/format";
import { useAllowed } from "@/lib/session";

import {
  useAddLabel,
  useDeleteLabel,
  useLabelUsage,
  useProject,
  useUpdateLabel,
  type Label,
} from "../api/projects";

function Swatch({ color }: { color: string }) {
  return <span aria-hidden style={{ display: "inline-block", width: 14, height: 14, borderRadius: 3, background: color, border: "1px solid #0004" }} />;
}

function AddLabelForm({ project }: { project: string }) {
  const add = useAddLabel(project);
  const [name, setName] = useState("");
  const [color, setColor] = useState("");
  const [hotkey, setHotkey] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate(
      { name: name.trim(), ...(color ? { color } : {}), ...(hotkey.trim() ? { hotkey: hotkey.trim() } : {}) },
      {
        onSuccess: () => {
          setName("");
          setColor("");
          setHotkey("");
        },
      },
    );
  };
  return (
    <Paper withBorder p="sm" component="form" onSubmit={submit} aria-labelledby="add-label-title">
      <Title order={2} size="h5" id="add-label-title" mb="xs">
        Add a label
      </Title>
      <Group align="flex-end" gap="sm">
        <TextInput label="Name" value={name} onChange={(event) => setName(event.currentTarget.value)} required />
        <ColorInput label="Colour" placeholder="picked for you" value={color} onChange={setColor} format="hex" w={160} />
        <TextInput label="Hotkey" placeholder="e.g. 3 or ctrl+k" value={hotkey} onChange={(event) => setHotkey(event.currentTarget.value)} w={140} />
        <Button type="submit" loading={add.isPending} disabled={!name.trim()}>
          Add label
        </Button>
      </Group>
      {add.isError && (
        <Stack mt="sm">
          <ProblemAlert title="Label not added" error={add.error} />
        </Stack>
      )}
    </Paper>
  );
}

function EditLabelModal({ project, label, onClose }: { project: string; label: Label; onClose: () => void }) {
  const update = useUpdateLabel(project);
  const [name, setName] = useState(label.name);
  const [color, setColor] = useState(label.color);
  const [hotkey, setHotkey] = useState(label.hotkey ?? "");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = {
      ...(name.trim() !== label.name ? { name: name.trim() } : {}),
      ...(color !== label.color ? { color } : {}),
      ...(hotkey.trim() !== (label.hotkey ?? "") ? { hotkey: hotkey.trim() || null } : {}),
    };
    update.mutate({ label: label.id, body }, { onSuccess: onClose });
  };
  return (
    <Modal opened onClose={onClose} title={`Edit label ${label.name}`}>
      <form onSubmit={submit}>
        <Stack gap="sm">
          <TextInput label="Name" value={name} onChange={(event) => setName(event.currentTarget.value)} required data-autofocus />
          <ColorInput label="Colour" value={color} onChange={setColor} format="hex" />
          <TextInput label="Hotkey" description="Empty: no hotkey" value={hotkey} onChange={(event) => setHotkey(event.currentTarget.value)} />
          {update.isError && <ProblemAlert title="Label not changed" error={update.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={update.isPending}>
              Save label
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A project's labels: add, rename, recolour, set hotkeys, delete (saying how many annotations use each). */
export function LabelsPage() {
  const { project: name = "" } = useParams();
  useDocumentTitle(`Labels · ${name} · modelyard`);
  const project = useProject(name);
  const usage = useLabelUsage(name);
  const remove = useDeleteLabel(name);
  const mayEdit = useAllowed("write");
  const [editing, setEditing] = useState<Label | null>(null);
  const [deleting, setDeleting] = useState<Label | null>(null);

  if (project.isPending) return <LoadingState label="Loading the labels" />;
  if (project.isError) return <ProblemAlert title={`Could not load project ${name}`} error={project.error} />;
  const used = new Map((usage.data?.labels ?? []).map((entry) => [entry.label_id, entry]));
  const deletingUse = deleting ? used.get(deleting.id) : undefined;

  return (
    <>
      <PageHeader
        title="Labels"
        description={usage.data ? `${project.data.name} · ${usage.data.annotated_items} of ${plural(usage.data.items, "item")} annotated` : project.data.name}
      />
      <Stack gap="md">
        {mayEdit && <AddLabelForm project={name} />}
        {usage.isError && <ProblemAlert title="Could not count the labels' use" error={usage.error} />}
        {project.data.labels.length === 0 ? (
          <EmptyState title="No labels yet">Add the labels the project's images are annotated with.</EmptyState>
        ) : (
          <Table aria-label="Labels" maw={820}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Colour</Table.Th>
                <Table.Th scope="col">Hotkey</Table.Th>
                <Table.Th scope="col">Used by</Table.Th>
                <Table.Th scope="col">
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {project.data.labels.map((label) => {
                const use = used.get(label.id);
                return (
                  <Table.Tr key={label.id} data-testid="label-row">
                    <Table.Td>{label.name}</Table.Td>
                    <Table.Td>
                      <Group gap={6}>
                        <Swatch color={label.color} />
                        <Text size="sm" ff="monospace">
                          {label.color}
                        </Text>
                      </Group>
                    </Table.Td>
                    <Table.Td>{label.hotkey ? <kbd>{label.hotkey}</kbd> : "—"}</Table.Td>
                    <Table.Td data-testid="label-usage">
                      {use ? `${plural(use.items, "item")}, ${plural(use.shapes, "shape")}` : "…"}
                    </Table.Td>
                    <Table.Td>
                      {mayEdit && (
                        <Group gap={4} justify="flex-end">
                          <Button size="xs" variant="default" onClick={() => setEditing(label)} aria-label={`Edit ${label.name}`}>
                            Edit
                          </Button>
                          <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(label)} aria-label={`Delete ${label.name}`}>
                            Delete
                          </Button>
                        </Group>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
      {editing && <EditLabelModal key={editing.id} project={name} label={editing} onClose={() => setEditing(null)} />}
      <ConfirmDeleteModal
        opened={deleting !== null}
        onClose={() => {
          remove.reset();
          setDeleting(null);
        }}
        subject={`label ${deleting?.name ?? ""}`}
        consequences={
          deletingUse && deletingUse.items > 0
            ? [
                `${plural(deletingUse.shapes, "annotation shape")} on ${plural(deletingUse.items, "item")} that use it (removed from those annotations)`,
              ]
            : ["the label (no annotation uses it)"]
        }
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() =>
          deleting &&
          remove.mutate(
            // Forced only for the use the person was shown: a use that appeared since is the server's 409.
            { label: deleting.id, force: (deletingUse?.items ?? 0) > 0 },
            { onSuccess: () => setDeleting(null) },
          )
        }
      />
    </>
  );
}
