export { api, notifyUnauthorized, onUnauthorized, sendFile, unwrap } from "./client";
export { ApiProblem, asProblem, problemFromResponse, type FieldError } from "./problem";
export type { Schema } from "./types";
export type { components, paths } from "./schema";
