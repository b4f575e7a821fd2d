import type { RouteObject } from "react-router";

/** The pipeline page of a project; it loads its code when first visited. */
export const pipelineRoutes: RouteObject[] = [
  {
    path: "projects/:project/pipeline",
    lazy: async () => ({ Component: (await import("./components/PipelinePage")).PipelinePage }),
  },
];
