import type { RouteObject } from "react-router";

/** The training pages; each loads its code when first visited. */
export const trainingRoutes: RouteObject[] = [
  {
    path: "projects/:project/training",
    lazy: async () => ({ Component: (await import("./components/TrainingPage")).TrainingPage }),
  },
  {
    path: "projects/:project/training/:jobId",
    lazy: async () => ({ Component: (await import("./components/TrainingJobPage")).TrainingJobPage }),
  },
];
