import { Button, Group, Paper, Select, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useState } from "react";

import { ConfirmDeleteModal, ProblemAlert } from "@/components";
import { plural } from "@/lib/format";
import { useAllowed } from "@/lib/session";

import { SUBSETS, useBulkAction, type BulkResult, type ItemFilters, type Project } from "../api/gallery";
import { selectionRequest, type Selection } from "./selection";

const CLASSIFICATION = ["multiclass_classification", "multilabel_classification"];

const DONE: Record<BulkResult["action"], string> = {
  assign_label: "labelled",
  delete: "deleted",
  move_to_subset: "moved",
};

interface BulkBarProps {
  project: Project;
  filters: ItemFilters;
  selection: Selection;
  count: number;
  onDone: () => void;
}

/** What can be done to the selected items at once; the server does it all or not at all. */
export function BulkBar({ project, filters, selection, count, onDone }: BulkBarProps) {
  const mayWrite = useAllowed("write");
  const bulk = useBulkAction(project.name);
  const [label, setLabel] = useState<string | null>(null);
  const [subset, setSubset] = useState<string | null>(null);
  const [deleting, deleteModal] = useDisclosure();
  const [outcome, setOutcome] = useState<BulkResult | null>(null);
  const classification = CLASSIFICATION.includes(project.task_type);
  const run = (body: { action: BulkResult["action"]; label?: string; subset?: (typeof SUBSETS)[number] }, then?: () => void) =>
    bulk.mutate(
      { ...body, ...selectionRequest(selection, filters) },
      {
        onSuccess: (result) => {
          setOutcome(result);
          then?.();
          onDone();
        },
      },
    );

  return (
    <Paper withBorder p="xs" data-testid="bulk-bar" aria-label="Selected items" role="region">
      <Group gap="sm" align="flex-end" wrap="wrap">
        <Text fw={700} data-testid="selected-count" aria-live="polite">
          {plural(count, "item")} selected
        </Text>
        {mayWrite && count > 0 && (
          <>
            {classification && (
              <Group gap={4} align="flex-end">
                <Select
                  label="Label"
                  placeholder="Choose"
                  data={project.labels.map((entry) => entry.name)}
                  value={label}
                  onChange={setLabel}
                  w={150}
                  data-testid="bulk-label"
                />
                <Button disabled={!label} loading={bulk.isPending} onClick={() => label && run({ action: "assign_label", label })}>
                  Assign label
                </Button>
              </Group>
            )}
            <Group gap={4} align="flex-end">
              <Select label="Subset" placeholder="Choose" data={SUBSETS} value={subset} onChange={setSubset} w={150} data-testid="bulk-subset" />
              <Button
                variant="default"
                disabled={!subset}
                loading={bulk.isPending}
                onClick={() => subset && run({ action: "move_to_subset", subset: subset as (typeof SUBSETS)[number] })}
              >
                Move
              </Button>
            </Group>
            <Button color="red" variant="outline" onClick={deleteModal.open}>
              Delete…
            </Button>
          </>
        )}
      </Group>
      {outcome && !bulk.isError && (
        <Text size="sm" mt="xs" role="status" data-testid="bulk-outcome">
          {plural(outcome.changed, "item")} {DONE[outcome.action]} ({outcome.selected} selected).
        </Text>
      )}
      {bulk.isError && !deleting && <ProblemAlert title="Nothing was changed" error={bulk.error} />}
      <ConfirmDeleteModal
        opened={deleting}
        onClose={() => {
          bulk.reset();
          deleteModal.close();
        }}
        subject={plural(count, "dataset item")}
        consequences={[
          `${plural(count, "image")} and their annotations (an image a dataset revision uses stays with the revision)`,
        ]}
        pending={bulk.isPending}
        error={bulk.error}
        onConfirm={() => run({ action: "delete" }, deleteModal.close)}
      />
    </Paper>
  );
}
