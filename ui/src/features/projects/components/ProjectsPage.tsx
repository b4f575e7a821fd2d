import { Anchor, Button, Group, Select, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback, useDisclosure, useDocumentTitle } from "@mantine/hooks";
import { useState } from "react";
import { Link, useNavigate } from "react-router";

import { DataTable, EmptyState, LoadingState, PageHeader, ProblemAlert, type Column } from "@/components";
import { formatDateTime } from "@/lib/format";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useAllowed } from "@/lib/session";
import { useSearchParam, useSortParam } from "@/lib/useSearchState";

import { TASK_TYPES, useProjects, type Project, type TaskType } from "../api/projects";
import { CreateProjectModal } from "./CreateProjectModal";
import { LabelChips } from "./LabelChips";
import { TaskBadge } from "./TaskBadge";

const COLUMNS: Column<Project>[] = [
  {
    key: "name",
    header: "Name",
    sortKey: "name",
    render: (project) => (
      <Anchor component={Link} to={paths.project(project.name)} fw={600}>
        {project.name}
      </Anchor>
    ),
  },
  { key: "task", header: "Task", render: (project) => <TaskBadge task={project.task_type} /> },
  { key: "labels", header: "Labels", render: (project) => <LabelChips labels={project.labels} max={4} /> },
  { key: "items", header: "Items", align: "right", render: (project) => project.counts.items },
  { key: "revisions", header: "Model revisions", align: "right", render: (project) => project.counts.model_revisions },
  { key: "models", header: "Registered models", align: "right", render: (project) => project.counts.registered_models },
  { key: "created", header: "Created", sortKey: "created_at", render: (project) => formatDateTime(project.created_at) },
];

/** Every project with its task and labels; filter by name and task, sort, create. */
export function ProjectsPage() {
  useDocumentTitle("Projects · modelyard");
  const navigate = useNavigate();
  const [creating, { open, close }] = useDisclosure();
  const mayCreate = useAllowed("write");
  const [name, setName] = useSearchParam("q");
  const [task, setTask] = useSearchParam("task");
  const [sort, setSort] = useSortParam({ key: "created_at", order: "asc" }, ["name", "created_at"]);
  const [typed, setTyped] = useState(name ?? "");
  const applyName = useDebouncedCallback((value: string) => setName(value.trim() || null), 250);
  const projects = useProjects({
    ...(name ? { name } : {}),
    ...(task ? { task_type: task as TaskType } : {}),
    sort: sort.key as "name" | "created_at",
    order: sort.order,
  });
  const rows = keysetItems(projects.data);
  const filtered = Boolean(name || task);

  return (
    <>
      <PageHeader title="Projects" description="A project is one problem: a task and its labels." actions={mayCreate && <Button onClick={open}>New project</Button>} />
      <Group mb="md" gap="sm" align="flex-end">
        <TextInput
          label="Name contains"
          value={typed}
          onChange={(event) => {
            setTyped(event.currentTarget.value);
            applyName(event.currentTarget.value);
          }}
          w={240}
        />
        <Select label="Task" placeholder="Any task" data={TASK_TYPES} value={task} onChange={setTask} clearable w={260} />
      </Group>
      {projects.isPending ? (
        <LoadingState label="Loading projects" />
      ) : projects.isError ? (
        <ProblemAlert title="Could not load the projects" error={projects.error} />
      ) : (
        <DataTable
          label="Projects"
          rows={rows}
          columns={COLUMNS}
          rowKey={(project) => project.id}
          sort={sort}
          onSortChange={setSort}
          hasMore={projects.hasNextPage}
          loadingMore={projects.isFetchingNextPage}
          onLoadMore={() => void projects.fetchNextPage()}
          onRowOpen={(project) => navigate(paths.project(project.name))}
          empty={
            <EmptyState
              title={filtered ? "No project matches" : "No projects yet"}
              action={!filtered && mayCreate && <Button onClick={open}>Create the first project</Button>}
            >
              {filtered ? <Text span>Change the filters above.</Text> : "Create a project to upload images and train models."}
            </EmptyState>
          }
        />
      )}
      <CreateProjectModal
        opened={creating}
        onClose={close}
        onCreated={(project) => {
          close();
          navigate(paths.project(project.name));
        }}
      />
    </>
  );
}
