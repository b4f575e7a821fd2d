import { useEffect, useLayoutEffect, useRef, useState } from "react";

import { notifyUnauthorized } from "@/api";

/** Handlers per event name; one that returns true ends the stream (the server has said its last word). */
export type EventHandlers = Record<string, (data: unknown) => boolean | undefined>;

export type StreamState = "connecting" | "open" | "closed" | "error";

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Server-Sent Events from a same-origin URL, with the session cookie (EventSource sends it on same-origin
 * requests). `url` null means no stream. Data is parsed as JSON when it is JSON. The browser reconnects on
 * its own after a dropped connection; a handler returning true closes the stream for good, so a stream
 * the server ends (a finished job) is not opened again. `onOpen` runs on every (re)connection, for streams
 * that start over from the beginning each time.
 *   useEventStream(`/api/v1/jobs/${id}/logs`, { log: (line) => append(String(line)), end: () => true });
 */
export function useEventStream(
  url: string | null,
  handlers: EventHandlers,
  options: { onOpen?: () => void } = {},
): StreamState {
  const [reported, setReported] = useState<{ url: string | null; state: StreamState }>({ url, state: "connecting" });
  const latest = useRef(handlers);
  const latestOpen = useRef(options.onOpen);
  useLayoutEffect(() => {
    latest.current = handlers;
    latestOpen.current = options.onOpen;
  });
  const names = Object.keys(handlers).sort().join(",");

  useEffect(() => {
    if (!url) return undefined;
    const report = (state: StreamState) => setReported({ url, state });
    const source = new EventSource(url);
    source.onopen = () => {
      latestOpen.current?.();
      report("open");
    };
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return report("connecting");
      // Refused for good (the browser does not say why): if the session has ended, the sign-in page shows.
      notifyUnauthorized();
      report("error");
    };
    const listeners = names
      .split(",")
      .filter(Boolean)
      .map((name) => {
        const listener = (event: MessageEvent<string>) => {
          if (latest.current[name]?.(parse(event.data)) === true) {
            source.close();
            report("closed");
          }
        };
        source.addEventListener(name, listener);
        return [name, listener] as const;
      });
    return () => {
      listeners.forEach(([name, listener]) => source.removeEventListener(name, listener));
      source.close();
    };
  }, [url, names]);

  if (!url) return "closed";
  return reported.url === url ? reported.state : "connecting";
}
