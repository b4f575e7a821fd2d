import type { components } from "./schema";

/** A schema of the server's OpenAPI document by name: `Schema<"ProjectRead">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
