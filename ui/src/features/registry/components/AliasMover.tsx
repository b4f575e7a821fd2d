import { Alert, Anchor, Button, Group, NumberInput, Stack, Table, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";

import { asProblem } from "@/api";
import { ProblemAlert } from "@/components";
import { paths } from "@/lib/paths";

import { useMoveAlias, type AliasMove } from "../api/registry";

type Diff = Record<"added" | "removed" | "renamed", Record<string, unknown>>;

function labelMapDiff(error: unknown): Diff | null {
  const problem = asProblem(error);
  const diff = problem.document.diff;
  return problem.code === "label_map_changed" && typeof diff === "object" && diff !== null ? (diff as Diff) : null;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "from" in value && "to" in value) {
    const renamed = value as { from: string; to: string };
    return `${renamed.from} → ${renamed.to}`;
  }
  return JSON.stringify(value);
}

/** The labels a move would change for whoever uses the alias, as the server's 409 listed them. */
function DiffTable({ diff }: { diff: Diff }) {
  const rows = (["added", "removed", "renamed"] as const).flatMap((kind) =>
    Object.entries(diff[kind]).map(([index, value]) => ({ kind, index, value })),
  );
  return (
    <Table aria-label="Label map changes" withTableBorder data-testid="label-map-diff">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Change</Table.Th>
          <Table.Th scope="col">Index</Table.Th>
          <Table.Th scope="col">Label</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((row) => (
          <Table.Tr key={`${row.kind}-${row.index}`}>
            <Table.Td>{row.kind}</Table.Td>
            <Table.Td>{row.index}</Table.Td>
            <Table.Td>{describe(row.value)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

interface AliasMoverProps {
  model: string;
  /** Who holds each alias as this page last read it: sent as the expected holder (compare-and-set). */
  aliases: Record<string, number>;
  /** The version to point the alias at, when the page is about one version. */
  version?: number;
}

/**
 * Moves an alias with compare-and-set: the server moves it only if the holder is still the one this page
 * shows. A stale page gets the server's 409 and reads the holders again; a move across a label-map change
 * shows the diff and asks before moving with `force`.
 */
export function AliasMover({ model, aliases, version }: AliasMoverProps) {
  const [alias, setAlias] = useState("");
  const [target, setTarget] = useState<number | string>(version ?? "");
  const move = useMoveAlias(model);
  const [pending, setPending] = useState<AliasMove | null>(null);
  const diff = move.isError ? labelMapDiff(move.error) : null;
  const expected = alias in aliases ? aliases[alias]! : null;

  const submit = (force: boolean) => {
    const request: AliasMove = force && pending ? { ...pending, force } : { alias, version: Number(target), expected, force };
    setPending(request);
    move.mutate(request, { onSuccess: () => setAlias("") });
  };

  return (
    <Stack gap="xs">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          submit(false);
        }}
      >
        <Group align="flex-end" gap="sm">
          <TextInput
            label="Alias"
            placeholder="production"
            value={alias}
            onChange={(event) => setAlias(event.currentTarget.value.trim())}
            required
            w={180}
          />
          {version === undefined && (
            <NumberInput label="Version" value={target} onChange={setTarget} min={1} required w={120} />
          )}
          <Button type="submit" loading={move.isPending} disabled={!alias || !target}>
            Move alias
          </Button>
        </Group>
        {alias && (
          <Text size="xs" c="dimmed" mt={4} data-testid="alias-expected">
            {expected === null ? `@${alias} is not held now: it will be set.` : `@${alias} is held by version ${expected} now.`}
          </Text>
        )}
      </form>
      {move.isSuccess && (
        <Text size="sm" c="green" role="status">
          @{move.variables.alias} now points at{" "}
          <Anchor underline="always" component={Link} to={paths.registeredVersion(model, move.data.number)}>
            version {move.data.number}
          </Anchor>
          .
        </Text>
      )}
      {move.isError && diff && pending ? (
        <Alert color="red" title="The labels differ" role="alert" data-testid="label-map-warning">
          <Stack gap="xs">
            <Text size="sm">
              Version {pending.version} has a different label map than the version holding @{pending.alias}. Whoever
              uses the alias will see these changes:
            </Text>
            <DiffTable diff={diff} />
            <Group gap="xs">
              <Button color="red" onClick={() => submit(true)} loading={move.isPending}>
                Move anyway
              </Button>
              <Button variant="default" onClick={() => move.reset()}>
                Cancel
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : (
        move.isError && (
          <>
            <ProblemAlert title={`Could not move @${move.variables.alias}`} error={move.error} />
            {asProblem(move.error).code === "alias_changed" && (
              <Text size="sm" role="status" data-testid="reloaded">
                Someone moved it meanwhile: the holders above were read again.
              </Text>
            )}
          </>
        )
      )}
    </Stack>
  );
}
