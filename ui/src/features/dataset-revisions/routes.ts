import type { RouteObject } from "react-router";

/** Dataset revisions: the list (and making one), and a revision's items by subset. */
export const datasetRevisionsRoutes: RouteObject[] = [
  {
    path: "projects/:project/dataset-revisions",
    lazy: async () => ({ Component: (await import("./components/DatasetRevisionsPage")).DatasetRevisionsPage }),
  },
  {
    path: "projects/:project/dataset-revisions/:revision",
    lazy: async () => ({ Component: (await import("./components/DatasetRevisionPage")).DatasetRevisionPage }),
  },
];
