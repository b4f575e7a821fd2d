import { Button, Stack } from "@mantine/core";
import { Link, isRouteErrorResponse, useRouteError } from "react-router";

import { PageHeader, ProblemAlert } from "@/components";

/** A page that failed to load or render: the reason, and a way back. */
export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? new Error(`${error.status} ${error.statusText}`) : error;
  return (
    <Stack p="md" component="main">
      <PageHeader title="This page could not be shown" />
      <ProblemAlert error={message} />
      <Button component={Link} to="/projects" variant="default" w="fit-content">
        Back to projects
      </Button>
    </Stack>
  );
}
