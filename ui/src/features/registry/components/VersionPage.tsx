import { Anchor, Code, Grid, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import type { ReactNode } from "react";
import { Link, useParams } from "react-router";

import { LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatBytes, formatDateTime } from "@/lib/format";
import { paths } from "@/lib/paths";

import { fileDownloadUrl, useHolders, useVersion, type ModelVersion } from "../api/registry";
import { AliasMover } from "./AliasMover";
import { NameChips, StageBadge } from "./Chips";
import { SourceLink } from "./ModelPage";
import { StageMover, VersionEditor } from "./VersionEditor";

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

function KeyValues({ label, rows }: { label: string; rows: [string, ReactNode][] }) {
  if (rows.length === 0) return <Text size="sm" c="dimmed">None.</Text>;
  return (
    <Table aria-label={label} withRowBorders>
      <Table.Tbody>
        {rows.map(([key, value]) => (
          <Table.Tr key={key}>
            <Table.Th scope="row" w="35%">
              {key}
            </Table.Th>
            <Table.Td>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function FilesTable({ version }: { version: ModelVersion }) {
  if (version.files.length === 0) return <Text size="sm" c="dimmed">No files.</Text>;
  return (
    <Table aria-label="Files" data-testid="files">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Name</Table.Th>
          <Table.Th scope="col" style={{ textAlign: "right" }}>Size</Table.Th>
          <Table.Th scope="col">SHA-256</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {version.files.map((file) => (
          <Table.Tr key={file.name}>
            <Table.Td>
              <Anchor href={fileDownloadUrl(version.model, version.number, file.name)} download aria-label={`Download ${file.name}`}>
                {file.name}
              </Anchor>
            </Table.Td>
            <Table.Td style={{ textAlign: "right" }}>{formatBytes(file.size)}</Table.Td>
            <Table.Td>
              <Code title={file.sha256}>{file.sha256.slice(0, 16)}…</Code>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** One version: its label map, parameters, runtime, files, lineage; edit it, move its stage and aliases. */
export function VersionPage() {
  const { name = "", number = "" } = useParams();
  const versionNumber = Number(number);
  useDocumentTitle(`${name} v${number} · registry · modelyard`);
  const version = useVersion(name, versionNumber);
  const holders = useHolders(name, null);

  if (version.isPending) return <LoadingState label="Loading the version" />;
  if (version.isError) return <ProblemAlert title={`Could not load version ${number} of ${name}`} error={version.error} />;
  const current = version.data;
  const labels = Object.entries(current.label_map).sort(([a], [b]) => Number(a) - Number(b));
  const runtime = current.runtime;

  return (
    <>
      <PageHeader
        title={`${current.model} · version ${current.number}`}
        description={
          <>
            <Anchor underline="always" component={Link} to={paths.registeredModel(current.model)}>
              {current.model}
            </Anchor>{" "}
            · {current.framework} · {current.task_type ?? "no task"} · registered {formatDateTime(current.created_at)} by{" "}
            {current.created_by}
          </>
        }
        actions={
          <>
            <StageBadge stage={current.stage} />
            <NameChips names={current.aliases.map((alias) => `@${alias}`)} testId="alias-chip" />
          </>
        }
      />
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="md">
            <Section title="Label map">
              <KeyValues label="Label map" rows={labels.map(([index, label]) => [index, label])} />
            </Section>
            <Section title="Metrics">
              <KeyValues label="Metrics" rows={Object.entries(current.metrics).map(([key, value]) => [key, String(value)])} />
            </Section>
            <Section title="Parameters">
              <Code block>{JSON.stringify(current.parameters, null, 2)}</Code>
            </Section>
            <Section title="Runtime">
              <KeyValues
                label="Runtime"
                rows={[
                  ["Docker image", runtime.image ? `${runtime.image}${runtime.tag ? `:${runtime.tag}` : ""}` : "—"],
                  ["Flags", runtime.flags?.length ? runtime.flags.join(" ") : "—"],
                  ...Object.entries(runtime.environment ?? {}).map(([key, value]): [string, ReactNode] => [`env ${key}`, value]),
                ]}
              />
            </Section>
            <Section title="Files">
              <FilesTable version={current} />
            </Section>
            <Section title="Source">
              <Stack gap="xs">
                <SourceLink version={current} />
                <Code block data-testid="lineage">
                  {JSON.stringify(current.source, null, 2)}
                </Code>
              </Stack>
            </Section>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md">
            <Section title="Stage">
              <StageMover key={current.stage} version={current} />
            </Section>
            <Section title="Aliases">
              {holders.isError ? (
                <ProblemAlert title="Could not load the aliases" error={holders.error} />
              ) : holders.data ? (
                <AliasMover model={name} aliases={holders.data.aliases} version={current.number} />
              ) : (
                <LoadingState label="Loading aliases" />
              )}
            </Section>
            <Section title="Edit">
              <VersionEditor key={current.updated_at} version={current} />
            </Section>
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
