import { Anchor, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { Fragment } from "react";
import { Link } from "react-router";

import { paths } from "@/lib/paths";

import type { Holders } from "../api/registry";
import { StageBadge } from "./Chips";

function VersionLinks({ model, numbers }: { model: string; numbers: number[] }) {
  return (
    <>
      {numbers.map((number, index) => (
        <Fragment key={number}>
          {index > 0 && ", "}
          <Anchor underline="always" size="sm" component={Link} to={paths.registeredVersion(model, number)}>
            version {number}
          </Anchor>
        </Fragment>
      ))}
    </>
  );
}

/** Who holds each alias and which versions are in each stage (now, or as of the time given). */
export function HoldersCard({ model, holders, title }: { model: string; holders: Holders; title: string }) {
  const aliases = Object.entries(holders.aliases).sort(([a], [b]) => a.localeCompare(b));
  const stages = Object.entries(holders.stages);
  return (
    <Paper withBorder p="md" data-testid="holders">
      <Title order={2} size="h4" mb="xs">
        {title}
      </Title>
      <Stack gap={4}>
        {aliases.length === 0 && stages.length === 0 && (
          <Text size="sm" c="dimmed">
            No alias and no version in a stage.
          </Text>
        )}
        {aliases.map(([alias, number]) => (
          <Group key={alias} gap="xs" data-testid={`alias-${alias}`}>
            <Text fw={600} size="sm">
              @{alias}
            </Text>
            <Text size="sm">→</Text>
            <VersionLinks model={model} numbers={[number]} />
          </Group>
        ))}
        {stages.map(([stage, numbers]) => (
          <Group key={stage} gap="xs" data-testid={`stage-${stage}`}>
            <StageBadge stage={stage} />
            <Text size="sm" component="span">
              <VersionLinks model={model} numbers={numbers} />
            </Text>
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}
