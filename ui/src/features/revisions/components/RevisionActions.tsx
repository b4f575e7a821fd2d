import { Alert, Anchor, Button, Checkbox, Group, Menu, Modal, NumberInput, Select, Stack, TextInput } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, useNavigate } from "react-router";

import { ConfirmDeleteModal, ProblemAlert } from "@/components";
import { paths } from "@/lib/paths";
import { useEventStream } from "@/lib/useEventStream";

import { revisionKeys } from "../api/keys";
import { useDeleteRevision, useEvaluate, useExport, useOptimize, useRegister, useRenameRevision, type ModelRevision, type Variant } from "../api/revisions";

type Action = "evaluate" | "optimize" | "export" | "register" | "rename" | "delete" | "delete-weights" | null;

/** What an action that queues work answered: the job to follow, or a result already stored. */
export type Outcome = { kind: "job"; id: string; what: string } | { kind: "message"; text: string };

function ActionModal({ title, opened, onClose, children }: { title: string; opened: boolean; onClose: () => void; children: ReactNode }) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered>
      <Stack gap="sm">{children}</Stack>
    </Modal>
  );
}

interface RevisionActionsProps {
  project: string;
  revision: ModelRevision;
  variants: Variant[];
  onOutcome: (outcome: Outcome) => void;
}

/** Evaluate, optimize, export, register, rename, delete (all or only the weights), each through the API. */
export function RevisionActions({ project, revision, variants, onOutcome }: RevisionActionsProps) {
  const navigate = useNavigate();
  const [action, setAction] = useState<Action>(null);
  const [variant, setVariant] = useState<string | null>(null);
  const [subset, setSubset] = useState("testing");
  const [force, setForce] = useState(false);
  const [maxDrop, setMaxDrop] = useState<number | string>("");
  const [format, setFormat] = useState("openvino-fp32");
  const [modelName, setModelName] = useState(project);
  const [createModel, setCreateModel] = useState(true);
  const [name, setName] = useState(revision.name);
  const evaluate = useEvaluate(revision.id);
  const optimize = useOptimize(revision.id);
  const exporting = useExport(revision.id);
  const register = useRegister(revision.id);
  const rename = useRenameRevision(revision.id);
  const remove = useDeleteRevision(revision.id);
  const close = () => {
    [evaluate, optimize, exporting, register, rename, remove].forEach((mutation) => mutation.reset());
    setAction(null);
  };
  const usable = revision.status === "succeeded" && revision.weights_status === "available";
  const chosenVariant = variant ?? variants.find((entry) => entry.name === "openvino-fp16")?.name ?? variants[0]?.name ?? null;

  return (
    <>
      <Group gap="xs">
        <Button variant="default" disabled={!usable} onClick={() => setAction("evaluate")}>
          Evaluate
        </Button>
        <Button variant="default" disabled={!usable} onClick={() => setAction("register")}>
          Register
        </Button>
        <Menu position="bottom-end">
          <Menu.Target>
            <Button variant="default">More actions</Button>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item disabled={!usable} onClick={() => setAction("export")}>
              Export a variant
            </Menu.Item>
            <Menu.Item disabled={!usable} onClick={() => setAction("optimize")}>
              Optimize to INT8
            </Menu.Item>
            <Menu.Item onClick={() => setAction("rename")}>Rename</Menu.Item>
            <Menu.Divider />
            <Menu.Item color="red" disabled={revision.weights_status !== "available"} onClick={() => setAction("delete-weights")}>
              Delete the weights only
            </Menu.Item>
            <Menu.Item color="red" onClick={() => setAction("delete")}>
              Delete the revision
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Group>

      <ActionModal title={`Evaluate revision #${revision.number}`} opened={action === "evaluate"} onClose={close}>
        <Select label="Variant" data={variants.map((entry) => entry.name)} value={chosenVariant} onChange={setVariant} allowDeselect={false} />
        <Select label="Subset" data={["testing", "validation", "training"]} value={subset} onChange={(value) => value && setSubset(value)} allowDeselect={false} />
        <Checkbox label="Evaluate again even when the same evaluation is stored" checked={force} onChange={(event) => setForce(event.currentTarget.checked)} />
        {evaluate.isError && <ProblemAlert title="Not evaluated" error={evaluate.error} />}
        <Button
          loading={evaluate.isPending}
          disabled={!chosenVariant}
          onClick={() =>
            evaluate.mutate(
              { variant: chosenVariant!, subset, force },
              {
                onSuccess: (answer) => {
                  close();
                  onOutcome("type" in answer ? { kind: "job", id: answer.id, what: "Evaluation" } : { kind: "message", text: `${answer.variant} was evaluated on the ${answer.subset} subset already: ${answer.metric_name} ${answer.metric_value.toFixed(3)} (check "evaluate again" to run it anew).` });
                },
              },
            )
          }
        >
          Evaluate
        </Button>
      </ActionModal>

      <ActionModal title={`Optimize revision #${revision.number} to INT8`} opened={action === "optimize"} onClose={close}>
        <NumberInput
          label="Largest accuracy drop (optional)"
          description="Between 0 and 1; left empty, plain post-training quantization."
          min={0.0001}
          max={1}
          step={0.01}
          decimalScale={4}
          clampBehavior="none"
          value={maxDrop}
          onChange={setMaxDrop}
          error={typeof maxDrop === "number" && (maxDrop <= 0 || maxDrop > 1) ? "must be above 0 and at most 1" : undefined}
          styles={{ error: { color: "var(--mantine-color-red-9)" }, input: { color: "var(--mantine-color-text)" } }}
        />
        {optimize.isError && <ProblemAlert title="Not queued" error={optimize.error} />}
        <Button
          loading={optimize.isPending}
          disabled={typeof maxDrop === "number" && (maxDrop <= 0 || maxDrop > 1)}
          onClick={() => optimize.mutate(typeof maxDrop === "number" ? maxDrop : null, { onSuccess: (job) => (close(), onOutcome({ kind: "job", id: job.id, what: "Optimization" })) })}
        >
          Optimize
        </Button>
      </ActionModal>

      <ActionModal title={`Export revision #${revision.number}`} opened={action === "export"} onClose={close}>
        <Select label="Format and precision" data={["openvino-fp32", "openvino-fp16", "onnx-fp32"]} value={format} onChange={(value) => value && setFormat(value)} allowDeselect={false} />
        {exporting.isError && <ProblemAlert title="Not queued" error={exporting.error} />}
        <Button
          loading={exporting.isPending}
          onClick={() => {
            const [formatName, precision] = format.split("-") as ["openvino" | "onnx", "fp32" | "fp16"];
            exporting.mutate({ format: formatName, precision }, { onSuccess: (job) => (close(), onOutcome({ kind: "job", id: job.id, what: "Export" })) });
          }}
        >
          Export
        </Button>
      </ActionModal>

      <ActionModal title={`Register revision #${revision.number}`} opened={action === "register"} onClose={close}>
        <TextInput label="Registered model" value={modelName} onChange={(event) => setModelName(event.currentTarget.value)} />
        <Checkbox label="Create the registered model if it does not exist" checked={createModel} onChange={(event) => setCreateModel(event.currentTarget.checked)} />
        {register.isError && <ProblemAlert title="Not registered" error={register.error} />}
        <Button
          loading={register.isPending}
          disabled={!modelName.trim()}
          onClick={() =>
            register.mutate(
              { name: modelName.trim(), createModel, comment: `registered from revision #${revision.number} of ${project}` },
              { onSuccess: (version) => (close(), onOutcome({ kind: "message", text: `Registered as ${modelName.trim()} version ${version.number}.` })) },
            )
          }
        >
          Register
        </Button>
      </ActionModal>

      <ActionModal title={`Rename revision #${revision.number}`} opened={action === "rename"} onClose={close}>
        <TextInput label="New name" value={name} onChange={(event) => setName(event.currentTarget.value)} />
        {rename.isError && <ProblemAlert title="Not renamed" error={rename.error} />}
        <Button loading={rename.isPending} disabled={!name.trim()} onClick={() => rename.mutate(name.trim(), { onSuccess: close })}>
          Rename
        </Button>
      </ActionModal>

      <ConfirmDeleteModal
        opened={action === "delete-weights"}
        onClose={close}
        subject={`the weights of revision #${revision.number}`}
        consequences={[`${variants.length} variants and their files (the record, curves, log and evaluations stay)`]}
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(true, { onSuccess: close })}
      />
      <ConfirmDeleteModal
        opened={action === "delete"}
        onClose={close}
        subject={`revision #${revision.number} ${revision.name}`}
        consequences={[`${variants.length} variants and their files`, "its curves, log and evaluations", "children keep their record (their parent is forgotten)"]}
        typeToConfirm={revision.name}
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(false, { onSuccess: () => navigate(paths.models(project)) })}
      />
    </>
  );
}

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

/** What the last action answered; for a job, its status as it goes, and the page's data read again at its end. */
export function OutcomeAlert({ outcome, onClose }: { outcome: Outcome; onClose: () => void }) {
  const client = useQueryClient();
  const [status, setStatus] = useState<string | null>(null);
  useEventStream(outcome.kind === "job" ? `/api/v1/jobs/${encodeURIComponent(outcome.id)}/events` : null, {
    status: (data) => {
      const job = data as { status: string };
      setStatus(job.status);
      if (!FINISHED.has(job.status)) return undefined;
      void client.invalidateQueries({ queryKey: revisionKeys.all });
      return true;
    },
  });
  return (
    <Alert color="blue" withCloseButton closeButtonLabel="Dismiss" onClose={onClose} role="status" data-testid="action-outcome">
      {outcome.kind === "job" ? (
        <>
          {outcome.what} queued as job{" "}
          <Anchor component={Link} to={paths.job(outcome.id)}>
            {outcome.id}
          </Anchor>
          {status ? ` (${status})` : ""}; this page shows its result when it ends.
        </>
      ) : (
        outcome.text
      )}
    </Alert>
  );
}
