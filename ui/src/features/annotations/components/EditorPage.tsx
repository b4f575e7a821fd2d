import { Alert, Anchor, Badge, Group, Text } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";

import { LoadingState, PageHeader, ProblemAlert } from "@/components";
import { paths } from "@/lib/paths";

import {
  useItem,
  useLabelUsage,
  useNeighbours,
  usePipelineEnabled,
  usePrefetchItem,
  useProject,
  useReloadItem,
  type ItemFilter,
} from "../api/annotations";
import { fitView, type View } from "./AnnotationCanvas";
import { ItemEditor } from "./ItemEditor";

/** The filter in the address (`?annotated=false&subset=training`): next and previous stay within it. */
export function useItemFilter(): [ItemFilter, string] {
  const [params] = useSearchParams();
  return useMemo(() => {
    const filter: ItemFilter = {};
    const flag = (name: string) => (params.get(name) === null ? undefined : params.get(name) === "true");
    if (flag("annotated") !== undefined) filter.annotated = flag("annotated");
    if (flag("user_reviewed") !== undefined) filter.user_reviewed = flag("user_reviewed");
    const subset = params.get("subset");
    if (subset === "unassigned" || subset === "training" || subset === "validation" || subset === "testing") {
      filter.subset = subset;
    }
    for (const key of ["label", "uploaded_after", "uploaded_before", "name"] as const) {
      const value = params.get(key);
      if (value) filter[key] = value;
    }
    return [filter, params.toString()];
  }, [params]);
}

/** The annotation editor, one item at a time. */
export function EditorPage() {
  const { project: name = "", item: itemId = "" } = useParams();
  // Per item: the view (zoom and pan) and a conflict message start afresh on another item.
  return <EditorForItem key={itemId} project={name} itemId={itemId} />;
}

function EditorForItem({ project: name, itemId }: { project: string; itemId: string }) {
  const navigate = useNavigate();
  const [filter, filterQuery] = useItemFilter();
  const project = useProject(name);
  const item = useItem(name, itemId);
  const neighbours = useNeighbours(name, itemId, filter);
  const usage = useLabelUsage(name);
  const pipeline = usePipelineEnabled(name);
  const reload = useReloadItem(name, itemId);
  const [view, setView] = useState<View | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  useDocumentTitle(`${item.data?.name ?? "Annotate"} · ${name} · modelyard`);

  const next = neighbours.data?.next ?? null;
  usePrefetchItem(name, next, filter);

  // Next and previous must be known before a key moves on (a pick saves and goes to the next item at once).
  if (project.isPending || item.isPending || neighbours.isPending) return <LoadingState label="Loading the item" />;
  if (project.isError) return <ProblemAlert title={`Could not load project ${name}`} error={project.error} />;
  if (item.isError) return <ProblemAlert title="Could not load the item" error={item.error} />;
  const current = item.data;
  const position = neighbours.data
    ? neighbours.data.position !== null && neighbours.data.position !== undefined
      ? `${neighbours.data.position} of ${neighbours.data.total}`
      : `not in this list of ${neighbours.data.total}`
    : "";

  return (
    <>
      <PageHeader
        title={`Annotate ${current.name}`}
        description={
          <>
            {project.data.name} · {current.width}×{current.height} · subset {current.subset}
            {position && <> · item {position}</>}
          </>
        }
        actions={
          <Group gap="xs">
            {current.user_reviewed && <Badge color="teal" variant="light">reviewed</Badge>}
            <Anchor component={Link} to={paths.labels(name)} size="sm">
              Labels
            </Anchor>
          </Group>
        }
      />
      {neighbours.isError && <ProblemAlert title="Could not find the next and previous items" error={neighbours.error} />}
      {conflict && (
        <Alert color="orange" variant="light" title="Someone else saved this item" role="alert" data-testid="conflict" mb="sm"
          withCloseButton closeButtonLabel="Dismiss" onClose={() => setConflict(null)}>
          <Text size="sm">{conflict}</Text>
          <Text size="sm">It was reloaded with what is stored now; apply your change again if it is still needed.</Text>
        </Alert>
      )}
      <ItemEditor
        key={`${current.id}:${current.annotation_version}`}
        project={project.data}
        item={current}
        previous={neighbours.data?.previous ?? null}
        next={next}
        usage={usage.data}
        pipelineEnabled={pipeline.data === true}
        view={view ?? fitView(current.width, current.height)}
        onView={setView}
        onGo={(target) => navigate(paths.annotate(name, target, filterQuery))}
        onConflict={(message) => {
          setConflict(message);
          void reload();
        }}
      />
    </>
  );
}
