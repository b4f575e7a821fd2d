import { Button, Text } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link, useLocation } from "react-router";

import { EmptyState, PageHeader } from "@/components";

export function NotFound() {
  useDocumentTitle("Not found · modelyard");
  const { pathname } = useLocation();
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        title="Nothing lives at this address"
        action={
          <Button component={Link} to="/projects" variant="default">
            Go to projects
          </Button>
        }
      >
        <Text span size="sm" ff="monospace">
          {pathname}
        </Text>
      </EmptyState>
    </>
  );
}
