import createClient, { type Middleware } from "openapi-fetch";

import { ApiProblem, problemFromResponse } from "./problem";
import type { paths } from "./schema";

/** The typed client over the public API: same origin, the session cookie goes with every request. */
export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/**
 * Called whenever a request is answered 401 (the session ended or was revoked), or a stream is refused for a
 * reason the browser hides; the listener asks the server for the session again. Returns the unsubscribe.
 */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function notifyUnauthorized(): void {
  unauthorizedListeners.forEach((listener) => listener());
}

const SESSION_PATH = "/api/v1/session";

const signOutOn401: Middleware = {
  onResponse({ response, request }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith(SESSION_PATH)) {
      notifyUnauthorized();
    }
    return undefined;
  },
};

api.use(signOutOn401);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of a call, or its problem document thrown as an ApiProblem (TanStack Query shows it).
 *   const project = await unwrap(api.GET("/api/v1/projects/{project}", { params: { path: { project } } }));
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw problemFromResponse(response, error);
  return data as T;
}

export { ApiProblem };

/**
 * Sends a file as the raw request body (the routes that stream an upload, such as importing pretrained
 * weights, read the body rather than a typed JSON document), with the same problem and 401 handling.
 */
export async function sendFile(method: "PUT" | "POST", path: `/api/v1/${string}`, file: Blob): Promise<unknown> {
  const response = await fetch(path, {
    method,
    body: file,
    credentials: "same-origin",
    headers: { "content-type": "application/octet-stream" },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text for the problem's detail
  }
  if (response.status === 401) notifyUnauthorized();
  if (!response.ok) throw problemFromResponse(response, body);
  return body;
}
