import type { RouteObject } from "react-router";

/** The registry pages; each loads its code when first visited. */
export const registryRoutes: RouteObject[] = [
  {
    path: "registry",
    lazy: async () => ({ Component: (await import("./components/RegistryPage")).RegistryPage }),
  },
  {
    path: "registry/:name",
    lazy: async () => ({ Component: (await import("./components/ModelPage")).ModelPage }),
  },
  {
    path: "registry/:name/versions/:number",
    lazy: async () => ({ Component: (await import("./components/VersionPage")).VersionPage }),
  },
  {
    path: "registry/:name/history",
    lazy: async () => ({ Component: (await import("./components/HistoryPage")).HistoryPage }),
  },
];
