import { Alert, Button, Code, CopyButton, Group, Select, Stack, Table, TagsInput, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";

import { ConfirmDeleteModal, EmptyState, LoadingState, ProblemAlert } from "@/components";
import { formatDateTime } from "@/lib/format";

import { useCreateToken, useRevokeToken, useTokens, type Token, type TokenCreate } from "../api/settings";

const SCOPES = [
  { value: "read", label: "read: look" },
  { value: "write", label: "write: create, train, predict" },
  { value: "admin", label: "admin: delete, tokens, storage" },
];

function CreateTokenForm() {
  const create = useCreateToken();
  const [name, setName] = useState("");
  const [scope, setScope] = useState<TokenCreate["scope"]>("read");
  const [user, setUser] = useState("");
  const [projects, setProjects] = useState<string[]>([]);
  const [expiresIn, setExpiresIn] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      name: name.trim(),
      scope,
      projects,
      ...(user.trim() ? { user: user.trim() } : {}),
      ...(expiresIn.trim() ? { expires_in: expiresIn.trim() } : {}),
    });
  };
  return (
    <form onSubmit={submit} aria-labelledby="new-token-title">
      <Title order={3} size="h5" id="new-token-title" mb="xs">
        New token
      </Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput label="Token name" value={name} onChange={(e) => setName(e.currentTarget.value)} required w={180} />
        <Select label="Scope" data={SCOPES} value={scope} onChange={(value) => value && setScope(value as TokenCreate["scope"])} allowDeselect={false} w={260} />
        <TextInput label="User" placeholder="like the name" value={user} onChange={(e) => setUser(e.currentTarget.value)} w={150} />
        <TagsInput label="Projects" placeholder="all projects" value={projects} onChange={setProjects} w={220} />
        <TextInput label="Expires in" placeholder="30d, 12h; empty: never" value={expiresIn} onChange={(e) => setExpiresIn(e.currentTarget.value)} w={170} />
        <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
          Create token
        </Button>
      </Group>
      {create.isError && (
        <Stack mt="sm">
          <ProblemAlert title="Token not created" error={create.error} />
        </Stack>
      )}
      {create.isSuccess && (
        <Alert color="green" title={`Token ${create.data.name} created`} mt="sm" role="status">
          <Stack gap="xs">
            <Text size="sm">Copy it now: it is shown this once, and only its hash is kept.</Text>
            <Group gap="xs">
              <Code data-testid="token-secret">{create.data.secret}</Code>
              <CopyButton value={create.data.secret}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="default" onClick={copy}>
                    {copied ? "Copied" : "Copy"}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Stack>
        </Alert>
      )}
    </form>
  );
}

function status(token: Token): string {
  if (token.revoked_at) return `revoked ${formatDateTime(token.revoked_at)}`;
  if (token.expires_at && new Date(token.expires_at) < new Date()) return "expired";
  return "active";
}

/** API tokens and sign-in sessions: create one (its secret shown once), revoke one. Admins only. */
export function TokensPanel({ admin }: { admin: boolean }) {
  const tokens = useTokens(admin);
  const revoke = useRevokeToken();
  const [revoking, setRevoking] = useState<Token | null>(null);
  if (!admin) return <Text size="sm">Tokens are managed with an admin token.</Text>;
  return (
    <Stack gap="lg">
      <CreateTokenForm />
      {tokens.isPending ? (
        <LoadingState label="Loading tokens" />
      ) : tokens.isError ? (
        <ProblemAlert title="Could not load the tokens" error={tokens.error} />
      ) : tokens.data.length === 0 ? (
        <EmptyState title="No tokens">Without tokens the server answers only on this machine.</EmptyState>
      ) : (
        <Table aria-label="Tokens" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Name</Table.Th>
              <Table.Th scope="col">Kind</Table.Th>
              <Table.Th scope="col">User</Table.Th>
              <Table.Th scope="col">Scope</Table.Th>
              <Table.Th scope="col">Projects</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Last used</Table.Th>
              <Table.Th scope="col">Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.data.map((token) => (
              <Table.Tr key={token.id} data-testid={`token-${token.name}`}>
                <Table.Td>{token.name}</Table.Td>
                <Table.Td>{token.kind}</Table.Td>
                <Table.Td>{token.user}</Table.Td>
                <Table.Td>{token.scope}</Table.Td>
                <Table.Td>{token.project_ids ? token.project_ids.length : "all"}</Table.Td>
                <Table.Td>{status(token)}</Table.Td>
                <Table.Td>{formatDateTime(token.last_used_at)}</Table.Td>
                <Table.Td>
                  {!token.revoked_at && (
                    <Button size="xs" color="red" variant="subtle" onClick={() => setRevoking(token)} aria-label={`Revoke ${token.name}`}>
                      Revoke
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <ConfirmDeleteModal
        opened={revoking !== null}
        onClose={() => {
          revoke.reset();
          setRevoking(null);
        }}
        subject={`access of token ${revoking?.name ?? ""}`}
        consequences={[
          `every request with ${revoking?.name ?? ""} is refused from now on`,
          "every sign-in session made with it ends",
        ]}
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revoking && revoke.mutate(revoking.id, { onSuccess: () => setRevoking(null) })}
      />
    </Stack>
  );
}
