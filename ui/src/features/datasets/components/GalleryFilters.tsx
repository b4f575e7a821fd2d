import { Button, Group, Select, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { useState } from "react";
import { useSearchParams } from "react-router";

import { useSearchParam, type Sort } from "@/lib/useSearchState";

import { SUBSETS, type Project } from "../api/gallery";

const YES_NO = [
  { value: "yes", label: "Yes" },
  { value: "no", label: "No" },
];

const SORT_CHOICES = [
  { value: "uploaded_at", label: "Uploaded, oldest first" },
  { value: "-uploaded_at", label: "Uploaded, newest first" },
  { value: "name", label: "Name, A to Z" },
  { value: "-name", label: "Name, Z to A" },
];

function UrlSelect({ param, label, data }: { param: string; label: string; data: { value: string; label: string }[] }) {
  const [value, setValue] = useSearchParam(param);
  return (
    <Select
      label={label}
      placeholder="Any"
      data={data}
      value={value}
      onChange={setValue}
      clearable
      w={150}
      data-testid={`filter-${param}`}
    />
  );
}

function UrlDate({ param, label }: { param: string; label: string }) {
  const [value, setValue] = useSearchParam(param);
  return (
    <TextInput
      type="date"
      label={label}
      value={value ?? ""}
      onChange={(event) => setValue(event.currentTarget.value)}
      w={160}
      data-testid={`filter-${param}`}
    />
  );
}

/** Typing narrows the gallery once the typing pauses (a request per word, not per key). */
function NameFilter() {
  const [value, setValue] = useSearchParam("name");
  const [text, setText] = useState(value ?? "");
  const commit = useDebouncedCallback((next: string) => setValue(next.trim()), 300);
  return (
    <TextInput
      label="Name contains"
      value={text}
      onChange={(event) => {
        setText(event.currentTarget.value);
        commit(event.currentTarget.value);
      }}
      w={180}
      data-testid="filter-name"
    />
  );
}

/** Every filter and the sort of the gallery, all kept in the page's address. */
export function GalleryFilters({ project, sort, onSort }: { project: Project; sort: Sort; onSort: (sort: Sort) => void }) {
  const [params, setParams] = useSearchParams();
  const labels = project.labels.map((label) => ({ value: label.name, label: label.name }));
  const filtered = ["annotated", "reviewed", "label", "subset", "from", "to", "name"].some((key) => params.has(key));
  return (
    <Group align="flex-end" gap="sm" wrap="wrap" role="search" aria-label="Filter the items">
      <UrlSelect param="annotated" label="Annotated" data={YES_NO} />
      <UrlSelect param="label" label="Label" data={labels} />
      <UrlSelect param="subset" label="Subset" data={SUBSETS.map((subset) => ({ value: subset, label: subset }))} />
      <UrlSelect param="reviewed" label="Reviewed" data={YES_NO} />
      <UrlDate param="from" label="Uploaded from" />
      <UrlDate param="to" label="Uploaded to" />
      <NameFilter key={params.get("name") === null ? "cleared" : "set"} />
      <Select
        label="Sort"
        data={SORT_CHOICES}
        value={sort.order === "desc" ? `-${sort.key}` : sort.key}
        onChange={(value) => value && onSort({ key: value.replace(/^-/, ""), order: value.startsWith("-") ? "desc" : "asc" })}
        allowDeselect={false}
        w={200}
        data-testid="sort"
      />
      {filtered && (
        <Button
          variant="subtle"
          onClick={() =>
            setParams((current) => {
              const next = new URLSearchParams(current);
              ["annotated", "reviewed", "label", "subset", "from", "to", "name"].forEach((key) => next.delete(key));
              return next;
            })
          }
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}
