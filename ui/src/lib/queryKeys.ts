/**
 * Query-key conventions: every key starts with its domain, then `list` or `detail`, then what narrows it.
 *   const projectKeys = domainKeys("projects");
 *   projectKeys.list({ sort: "name" })  -> ["projects", "list", { sort: "name" }]
 *   projectKeys.detail("colors")        -> ["projects", "detail", "colors"]
 * Invalidate `projectKeys.all` after a change and every list and detail of the domain is fetched again.
 * Each feature makes its keys in its own `api/keys.ts`; keys are never written as literals in components.
 */
export interface DomainKeys<Domain extends string> {
  all: readonly [Domain];
  lists: () => readonly [Domain, "list"];
  list: (params?: object) => readonly [Domain, "list", object];
  details: () => readonly [Domain, "detail"];
  detail: (...ids: (string | number)[]) => readonly [Domain, "detail", ...(string | number)[]];
}

export function domainKeys<Domain extends string>(domain: Domain): DomainKeys<Domain> {
  return {
    all: [domain] as const,
    lists: () => [domain, "list"] as const,
    list: (params = {}) => [domain, "list", params] as const,
    details: () => [domain, "detail"] as const,
    detail: (...ids) => [domain, "detail", ...ids] as const,
  };
}

/** The signed-in session: asked once on load and after sign-in, sign-out or any 401. */
export const sessionKey = ["session"] as const;
