import type { RouteObject } from "react-router";

/** The model revision pages; each loads its code when first visited. */
export const revisionsRoutes: RouteObject[] = [
  {
    path: "projects/:project/models",
    lazy: async () => ({ Component: (await import("./components/ModelsPage")).ModelsPage }),
  },
  {
    path: "projects/:project/models/compare",
    lazy: async () => ({ Component: (await import("./components/ComparePage")).ComparePage }),
  },
  {
    path: "projects/:project/models/:revisionId",
    lazy: async () => ({ Component: (await import("./components/RevisionPage")).RevisionPage }),
  },
];
