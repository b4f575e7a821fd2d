/** A problem document (RFC 9457) as the server sends it, with the request id that names the request in logs. */
export interface FieldError {
  field: string;
  message: string;
}

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly requestId: string | null;
  readonly errors: FieldError[];
  /** The whole problem document, for the members a page reads beyond the common ones (a 409's `diff`). */
  readonly document: Record<string, unknown>;

  constructor(init: {
    status: number;
    code: string;
    title: string;
    detail: string;
    requestId: string | null;
    errors?: FieldError[];
    document?: Record<string, unknown>;
  }) {
    super(init.detail || init.title);
    this.name = "ApiProblem";
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.document = init.document ?? {};
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** The problem a failed response carries; a body that is not a problem document still gives status and id. */
export function problemFromResponse(response: Response, body: unknown): ApiProblem {
  const document = isRecord(body) ? body : {};
  const errors = Array.isArray(document.errors)
    ? document.errors.filter(isRecord).map((item) => ({
        field: text(item.field, ""),
        message: text(item.message, ""),
      }))
    : [];
  // A domain error about one field (a hyperparameter out of bounds) names it at the top: `field`.
  if (errors.length === 0 && typeof document.field === "string" && document.field !== "") {
    errors.push({ field: document.field, message: text(document.detail, "") });
  }
  const title = text(document.title, response.statusText || `HTTP ${response.status}`);
  return new ApiProblem({
    status: response.status,
    code: text(document.code, `http_${response.status}`),
    title,
    detail: text(document.detail, typeof body === "string" && body ? body : title),
    requestId:
      response.headers.get("x-request-id") ?? (typeof document.request_id === "string" ? document.request_id : null),
    errors,
    document,
  });
}

/** Any thrown value as a problem: a network failure reads as one too, so every page shows errors the same way. */
export function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiProblem({
    status: 0,
    code: "network_error",
    title: "The server could not be reached",
    detail: message,
    requestId: null,
  });
}
