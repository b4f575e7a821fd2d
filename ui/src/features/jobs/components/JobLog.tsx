import { Group, Paper, Switch, Text, Title } from "@mantine/core";
import { useLayoutEffect, useRef, useState } from "react";

import classes from "./JobLog.module.css";

/** The log's lines as they arrive; scrolled to the newest line unless the reader turns that off. */
export function JobLog({ lines, following }: { lines: string[]; following: boolean }) {
  const [stickToEnd, setStickToEnd] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  useLayoutEffect(() => {
    if (stickToEnd && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, stickToEnd]);
  return (
    <section aria-labelledby="job-log-title">
      <Group justify="space-between" mb={4}>
        <Title order={2} size="h5" id="job-log-title">
          Log {following && <Text span size="xs" c="dimmed">(live)</Text>}
        </Title>
        <Switch size="xs" label="Scroll to newest" checked={stickToEnd} onChange={(e) => setStickToEnd(e.currentTarget.checked)} />
      </Group>
      <Paper withBorder>
        <pre ref={box} className={classes.log} data-testid="job-log" tabIndex={0} aria-label="Job log">
          {lines.length ? lines.join("\n") : "No log lines yet."}
        </pre>
      </Paper>
    </section>
  );
}
