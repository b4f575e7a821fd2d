import { Anchor, Group } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link, Navigate, useParams } from "react-router";

import { EmptyState, LoadingState, PageHeader, ProblemAlert } from "@/components";
import { paths } from "@/lib/paths";

import { useFirstItem } from "../api/annotations";
import { useItemFilter } from "./EditorPage";

/** `/projects/<name>/annotate`: opens the editor at the first item the filter keeps. */
export function FirstItem() {
  const { project = "" } = useParams();
  useDocumentTitle(`Annotate · ${project} · modelyard`);
  const [filter, filterQuery] = useItemFilter();
  const first = useFirstItem(project, filter);
  if (first.isPending) return <LoadingState label="Finding the first item" />;
  if (first.isError) return <ProblemAlert title="Could not list the items" error={first.error} />;
  if (first.data) return <Navigate to={paths.annotate(project, first.data.id, filterQuery)} replace />;
  return (
    <>
      <PageHeader title="Annotate" />
      <EmptyState title={filterQuery ? "No item matches this filter" : "No images yet"}>
        {filterQuery ? "Every item of this list is done, or none matches." : "Upload images to the project first."}
      </EmptyState>
      {filterQuery && (
        <Group justify="center">
          <Anchor component={Link} to={paths.annotate(project)}>
            Annotate all items
          </Anchor>
        </Group>
      )}
    </>
  );
}
