import { Anchor, Button, Code, Grid, Group, Paper, Stack, Text, TextInput, Timeline, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link, useParams } from "react-router";

import { EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { formatDateTime } from "@/lib/format";
import { keysetItems } from "@/lib/keyset";
import { paths } from "@/lib/paths";
import { useSearchParam } from "@/lib/useSearchState";

import { useEvents, useHolders, type RegistryEvent } from "../api/registry";
import { HoldersCard } from "./HoldersCard";

const pad = (value: number) => String(value).padStart(2, "0");

/** An ISO instant as the value of a `datetime-local` input (the browser's time zone, to the second). */
function toLocalInput(iso: string): string {
  const date = new Date(iso);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())}`;
}

function summary(event: RegistryEvent): string {
  const version = event.version_number !== null ? `version ${event.version_number}` : "";
  const after = event.after ? JSON.stringify(event.after) : null;
  switch (event.action) {
    case "alias.set": {
      const previous = event.before?.version as number | undefined;
      return `@${event.subject} → ${version}${previous !== undefined ? ` (was version ${previous})` : ""}`;
    }
    case "alias.removed":
      return `@${event.subject} removed from ${version}`;
    case "version.stage_changed":
      return `${version}: ${(event.before?.stage as string | undefined) ?? "?"} → ${event.subject}`;
    default:
      return [version, event.subject, after && `→ ${after}`].filter(Boolean).join(" ");
  }
}

/** Every change of a model, newest first, and who held each alias and stage at a chosen moment. */
export function HistoryPage() {
  const { name = "" } = useParams();
  useDocumentTitle(`${name} history · registry · modelyard`);
  const [at, setAt] = useSearchParam("at");
  const holders = useHolders(name, at);
  const events = useEvents(name);
  const rows = keysetItems(events.data);

  return (
    <>
      <PageHeader
        title={`${name} · history`}
        description={
          <Anchor underline="always" component={Link} to={paths.registeredModel(name)}>
            Back to {name}
          </Anchor>
        }
      />
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md">
            <Paper withBorder p="md">
              <Group align="flex-end" gap="sm">
                <TextInput
                  type="datetime-local"
                  label="As of"
                  step={1}
                  value={at ? toLocalInput(at) : ""}
                  onChange={(event) => {
                    const value = event.currentTarget.value;
                    setAt(value ? new Date(value).toISOString() : null);
                  }}
                  w={240}
                />
                <Button variant="default" onClick={() => setAt(null)} disabled={!at}>
                  Now
                </Button>
              </Group>
            </Paper>
            {holders.isPending ? (
              <LoadingState label="Replaying the history" />
            ) : holders.isError ? (
              <ProblemAlert title="Could not replay the history" error={holders.error} />
            ) : (
              <HoldersCard
                model={name}
                holders={holders.data}
                title={at ? `Held as of ${formatDateTime(at)}` : "Held now"}
              />
            )}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Title order={2} size="h3" mb="sm">
            Timeline
          </Title>
          {events.isPending ? (
            <LoadingState label="Loading the history" />
          ) : events.isError ? (
            <ProblemAlert title="Could not load the history" error={events.error} />
          ) : rows.length === 0 ? (
            <EmptyState title="No events" />
          ) : (
            <>
              <Timeline bulletSize={14} lineWidth={2} data-testid="timeline">
                {rows.map((event) => (
                  <Timeline.Item key={event.id} title={<Code>{event.action}</Code>}>
                    <Text size="sm">{summary(event)}</Text>
                    {event.comment && (
                      <Text size="sm" fs="italic">
                        “{event.comment}”
                      </Text>
                    )}
                    <Group gap="xs">
                      <Text size="xs" c="dimmed">
                        {formatDateTime(event.at)} · {event.actor}
                      </Text>
                      <Anchor component="button" type="button" size="xs" onClick={() => setAt(event.at)}>
                        As of this change
                      </Anchor>
                    </Group>
                  </Timeline.Item>
                ))}
              </Timeline>
              {events.hasNextPage && (
                <Button mt="sm" variant="default" onClick={() => void events.fetchNextPage()} loading={events.isFetchingNextPage}>
                  Older events
                </Button>
              )}
            </>
          )}
        </Grid.Col>
      </Grid>
    </>
  );
}
