import { QueryClient } from "@tanstack/react-query";

import { ApiProblem } from "@/api";

/** Answers the server gave on purpose (4xx) are not asked again; lost connections and 5xx are, twice. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiProblem && error.status >= 400 && error.status < 500) return false;
  return failureCount < 2;
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 5_000, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/** The application's one cache: the router's loaders start requests in it before a page's code has loaded. */
export const queryClient = makeQueryClient();
