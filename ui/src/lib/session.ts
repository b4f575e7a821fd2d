import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schema } from "@/api";
import { sessionKey } from "./queryKeys";

/**
 * The signed-in session, shared: the gate and the sign-in page use it, and any page may ask the scope to
 * offer only what the caller may do (`useScope() === "admin"`); the server still decides every request.
 */
export type Session = Schema<"SessionRead">;
export type Scope = NonNullable<Session["scope"]>;

/** Who is signed in, and whether anyone has to be; answered without a session too (never 401). */
export const sessionQuery = queryOptions({
  queryKey: sessionKey,
  queryFn: () => unwrap(api.GET("/api/v1/session")),
  staleTime: 60_000,
});

export function useSession() {
  return useQuery(sessionQuery);
}

/** Exchanges a token for the session cookie; every cached answer is fetched again under the new identity. */
export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (token: string) => unwrap(api.POST("/api/v1/session", { body: { token } })),
    onSuccess: (session) => {
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionKey[0] });
      client.setQueryData(sessionKey, session);
    },
  });
}

/** Ends the session on the server and forgets everything cached for it. */
export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/session")),
    onSuccess: async () => {
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionKey[0] });
      await client.invalidateQueries({ queryKey: sessionKey });
    },
  });
}

const RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** Whether the caller may do what needs `needed`; without authentication on the server, anything. */
export function useAllowed(needed: Scope): boolean {
  const session = useSession();
  if (!session.data) return false;
  if (!session.data.auth_required) return true;
  return session.data.scope !== null && session.data.scope !== undefined && RANK[session.data.scope] >= RANK[needed];
}
