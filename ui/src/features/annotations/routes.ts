import type { RouteObject } from "react-router";

/** The annotation editor: without an item it opens the first one the filter keeps. */
export const annotationsRoutes: RouteObject[] = [
  {
    path: "projects/:project/annotate",
    lazy: async () => ({ Component: (await import("./components/FirstItem")).FirstItem }),
  },
  {
    path: "projects/:project/annotate/:item",
    lazy: async () => ({ Component: (await import("./components/EditorPage")).EditorPage }),
  },
];
