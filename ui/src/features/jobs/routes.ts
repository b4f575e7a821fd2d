import type { RouteObject } from "react-router";

/** The jobs pages; each loads its code when first visited. */
export const jobsRoutes: RouteObject[] = [
  { path: "jobs", lazy: async () => ({ Component: (await import("./components/JobsPage")).JobsPage }) },
  { path: "jobs/:jobId", lazy: async () => ({ Component: (await import("./components/JobPage")).JobPage }) },
];
