import { Anchor, Button, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useDisclosure, useDocumentTitle } from "@mantine/hooks";
import { Link, useNavigate, useParams } from "react-router";

import { ConfirmDeleteModal, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatDateTime, plural } from "@/lib/format";
import { paths } from "@/lib/paths";
import { useAllowed } from "@/lib/session";

import { useDeleteProject, useProject, type Project } from "../api/projects";
import { RenameProjectModal } from "./RenameProjectModal";
import { TaskBadge } from "./TaskBadge";

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={`count-${label.toLowerCase().replaceAll(" ", "-")}`}>
        {value}
      </Text>
    </Paper>
  );
}

/** What deleting the project takes with it, one line per kind of thing it holds. */
export function deletionConsequences(project: Project): string[] {
  const { counts } = project;
  return [
    `${plural(counts.items, "dataset item")} and their images`,
    plural(counts.dataset_revisions, "dataset revision"),
    `${plural(counts.model_revisions, "model revision")} with their variants, evaluations and files`,
    `${plural(project.labels.length, "label")}, the pipeline and the project's jobs`,
  ];
}

/** One project: its task, labels and what it holds; rename and delete. */
export function ProjectPage() {
  const { project: name = "" } = useParams();
  useDocumentTitle(`${name} · modelyard`);
  const navigate = useNavigate();
  const project = useProject(name);
  const remove = useDeleteProject();
  const [renaming, renameModal] = useDisclosure();
  const mayRename = useAllowed("write");
  const mayDelete = useAllowed("admin");
  const [deleting, deleteModal] = useDisclosure();

  if (project.isPending) return <LoadingState label="Loading the project" />;
  if (project.isError) return <ProblemAlert title={`Could not load project ${name}`} error={project.error} />;
  const current = project.data;

  return (
    <>
      <PageHeader
        title={current.name}
        description={current.description || undefined}
        actions={
          <>
            <Button component={Link} to={paths.dataset(current.name)}>
              Dataset
            </Button>
            <Button component={Link} to={paths.annotate(current.name)} variant="default">
              Annotate
            </Button>
            <Button component={Link} to={paths.datasetRevisions(current.name)} variant="default">
              Dataset revisions
            </Button>
            {mayRename && (
              <Button variant="default" onClick={renameModal.open}>
                Rename
              </Button>
            )}
            {mayDelete && (
              <Button color="red" variant="outline" onClick={deleteModal.open}>
                Delete
              </Button>
            )}
          </>
        }
      />
      <Stack gap="lg">
        <Group gap="sm">
          <TaskBadge task={current.task_type} />
          <Text size="sm" c="dimmed">
            created {formatDateTime(current.created_at)} by {current.created_by} · updated{" "}
            {formatDateTime(current.updated_at)} by {current.updated_by}
          </Text>
        </Group>
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <Stat label="Items" value={current.counts.items} />
          <Stat label="Dataset revisions" value={current.counts.dataset_revisions} />
          <Stat label="Model revisions" value={current.counts.model_revisions} />
          <Stat label="Registered models" value={current.counts.registered_models} />
        </SimpleGrid>
        <section aria-labelledby="labels-title">
          <Group gap="sm" mb="xs">
            <Title order={2} size="h4" id="labels-title">
              Labels
            </Title>
            <Anchor component={Link} to={paths.labels(current.name)} size="sm">
              Edit labels
            </Anchor>
          </Group>
          {current.labels.length === 0 ? (
            <Text size="sm" c="dimmed">
              This project has no labels yet.
            </Text>
          ) : (
            <Table aria-labelledby="labels-title" maw={560}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Name</Table.Th>
                  <Table.Th scope="col">Colour</Table.Th>
                  <Table.Th scope="col">Hotkey</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {current.labels.map((label) => (
                  <Table.Tr key={label.id}>
                    <Table.Td>{label.name}</Table.Td>
                    <Table.Td>
                      <Group gap={6}>
                        <span
                          aria-hidden
                          style={{ width: 14, height: 14, borderRadius: 3, background: label.color, border: "1px solid #0004" }}
                        />
                        <Text size="sm" ff="monospace">
                          {label.color}
                        </Text>
                      </Group>
                    </Table.Td>
                    <Table.Td>{label.hotkey ? <kbd>{label.hotkey}</kbd> : "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </section>
      </Stack>
      <RenameProjectModal
        project={current}
        opened={renaming}
        onClose={renameModal.close}
        onRenamed={(renamed) => {
          renameModal.close();
          navigate(paths.project(renamed.name), { replace: true });
        }}
      />
      <ConfirmDeleteModal
        opened={deleting}
        onClose={() => {
          remove.reset();
          deleteModal.close();
        }}
        subject={`project ${current.name}`}
        consequences={deletionConsequences(current)}
        typeToConfirm={current.name}
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() =>
          remove.mutate(current.name, {
            onSuccess: () => {
              deleteModal.close();
              navigate(paths.projects());
            },
          })
        }
      />
    </>
  );
}
