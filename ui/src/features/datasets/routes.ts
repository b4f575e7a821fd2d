import type { RouteObject } from "react-router";

/** The dataset pages of a project; each loads its code when first visited. */
export const datasetRoutes: RouteObject[] = [
  {
    path: "projects/:project/dataset",
    lazy: async () => ({ Component: (await import("./components/GalleryPage")).GalleryPage }),
  },
  {
    path: "projects/:project/dataset/upload",
    lazy: async () => ({ Component: (await import("./components/UploadPage")).UploadPage }),
  },
  {
    path: "projects/:project/dataset/transfer",
    lazy: async () => ({ Component: (await import("./components/TransferPage")).TransferPage }),
  },
];
