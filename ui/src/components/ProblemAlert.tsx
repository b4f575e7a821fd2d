import { Alert, Code, Stack, Text } from "@mantine/core";

import { asProblem } from "@/api";

interface ProblemAlertProps {
  /** What failed, in the page's words ("Could not load the projects"). */
  title?: string;
  error: unknown;
}

/** A failed request as the server explained it: the message, the stable code and the request id for the logs. */
export function ProblemAlert({ title, error }: ProblemAlertProps) {
  const problem = asProblem(error);
  return (
    <Alert color="red" variant="light" title={title ?? problem.title} role="alert" data-testid="problem">
      <Stack gap={4}>
        <Text size="sm">{problem.detail}</Text>
        {problem.errors.length > 0 && (
          <Stack gap={0} component="ul" m={0} pl="md">
            {problem.errors.map((item) => (
              <Text size="sm" component="li" key={`${item.field}:${item.message}`}>
                {item.field}: {item.message}
              </Text>
            ))}
          </Stack>
        )}
        <Text size="xs" c="dimmed">
          code <Code>{problem.code}</Code>
          {problem.status > 0 && <> · HTTP {problem.status}</>}
          {problem.requestId && (
            <>
              {" "}
              · request <Code data-testid="problem-request-id">{problem.requestId}</Code>
            </>
          )}
        </Text>
      </Stack>
    </Alert>
  );
}
