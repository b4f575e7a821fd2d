import type { RouteObject } from "react-router";

/** The projects pages; each loads its code when first visited. */
export const projectsRoutes: RouteObject[] = [
  {
    path: "projects",
    lazy: async () => ({ Component: (await import("./components/ProjectsPage")).ProjectsPage }),
  },
  {
    path: "projects/:project",
    lazy: async () => ({ Component: (await import("./components/ProjectPage")).ProjectPage }),
  },
  {
    path: "projects/:project/labels",
    lazy: async () => ({ Component: (await import("./components/LabelsPage")).LabelsPage }),
  },
];
