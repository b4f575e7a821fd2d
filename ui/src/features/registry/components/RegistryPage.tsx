import { Anchor, Group, Select, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback, useDocumentTitle } from "@mantine/hooks";
import { useState } from "react";
import { Link, useNavigate } from "react-router";

import { DataTable, EmptyState, LoadingState, PageHeader, ProblemAlert, type Column } from "@/components";
import { formatDateTime } from "@/lib/format";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useSearchParam, useSortParam } from "@/lib/useSearchState";

import { useRegisteredModels, type ModelSort, type RegisteredModel } from "../api/registry";
import { NameChips, TagChips } from "./Chips";

const SORTS: ModelSort[] = ["name", "creation_time", "last_updated_time", "num_versions"];

const COLUMNS: Column<RegisteredModel>[] = [
  {
    key: "name",
    header: "Name",
    sortKey: "name",
    render: (model) => (
      <Anchor component={Link} to={paths.registeredModel(model.name)} fw={600}>
        {model.name}
      </Anchor>
    ),
  },
  {
    key: "description",
    header: "Description",
    render: (model) => (
      <Text size="sm" lineClamp={1}>
        {model.description || "—"}
      </Text>
    ),
  },
  { key: "versions", header: "Versions", sortKey: "num_versions", align: "right", render: (model) => model.num_versions },
  { key: "labels", header: "Labels", render: (model) => <NameChips names={model.labels} testId="label-chip" /> },
  { key: "tags", header: "Tags", render: (model) => <TagChips tags={model.tags} /> },
  { key: "created", header: "Created", sortKey: "creation_time", render: (model) => formatDateTime(model.created_at) },
  { key: "updated", header: "Updated", sortKey: "last_updated_time", render: (model) => formatDateTime(model.updated_at) },
];

function FilterInput({ label, param }: { label: string; param: string }) {
  const [value, setValue] = useSearchParam(param);
  const [typed, setTyped] = useState(value ?? "");
  const apply = useDebouncedCallback((text: string) => setValue(text.trim() || null), 250);
  return (
    <TextInput
      label={label}
      value={typed}
      onChange={(event) => {
        setTyped(event.currentTarget.value);
        apply(event.currentTarget.value);
      }}
      w={200}
    />
  );
}

/** Registered models: search by name, description, tag and label; sort by name, dates or number of versions. */
export function RegistryPage() {
  useDocumentTitle("Registry · modelyard");
  const navigate = useNavigate();
  const [name] = useSearchParam("q");
  const [description] = useSearchParam("description");
  const [tag] = useSearchParam("tag");
  const [label] = useSearchParam("label");
  const [archived, setArchived] = useSearchParam("archived");
  const [sort, setSort] = useSortParam({ key: "name", order: "asc" }, SORTS);
  const models = useRegisteredModels({
    ...(name ? { name } : {}),
    ...(description ? { description } : {}),
    ...(tag ? { tag: [tag] } : {}),
    ...(label ? { label: [label] } : {}),
    ...(archived ? { archived: archived === "yes" } : {}),
    sort: sort.key as ModelSort,
    order: sort.order,
  });
  const rows = keysetItems(models.data);
  const filtered = Boolean(name || description || tag || label || archived);

  return (
    <>
      <PageHeader title="Registry" description="Registered models and their versions, aliases and stages." />
      <Group mb="md" gap="sm" align="flex-end" wrap="wrap">
        <FilterInput label="Name contains" param="q" />
        <FilterInput label="Description contains" param="description" />
        <FilterInput label="Tag (key or key:value)" param="tag" />
        <FilterInput label="Label" param="label" />
        <Select
          label="Archived"
          placeholder="Either"
          data={[
            { value: "no", label: "Not archived" },
            { value: "yes", label: "Archived" },
          ]}
          value={archived}
          onChange={setArchived}
          clearable
          w={160}
        />
      </Group>
      {models.isPending ? (
        <LoadingState label="Loading registered models" />
      ) : models.isError ? (
        <ProblemAlert title="Could not load the registered models" error={models.error} />
      ) : (
        <DataTable
          label="Registered models"
          rows={rows}
          columns={COLUMNS}
          rowKey={(model) => model.id}
          sort={sort}
          onSortChange={setSort}
          hasMore={models.hasNextPage}
          loadingMore={models.isFetchingNextPage}
          onLoadMore={() => void models.fetchNextPage()}
          onRowOpen={(model) => navigate(paths.registeredModel(model.name))}
          empty={
            <EmptyState title={filtered ? "No registered model matches" : "No registered models yet"}>
              {filtered
                ? "Change the filters above."
                : "Register a trained revision from its page, or upload a version with the SDK or CLI."}
            </EmptyState>
          }
        />
      )}
    </>
  );
}
