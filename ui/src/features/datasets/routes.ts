import type { QueryClient } from "@tanstack/react-query";
import type { RouteObject } from "react-router";

import { prefetchGallery } from "./api/gallery";
import { listingOf } from "./components/galleryParams";

/**
 * The dataset pages of a project; each loads its code when first visited. The gallery's loader asks for the
 * project and the first page of items at once, alongside that code, instead of after it has run.
 */
export function datasetRoutes(client: QueryClient): RouteObject[] {
  return [
    {
      path: "projects/:project/dataset",
      loader: ({ params, request }) => {
        prefetchGallery(client, params.project ?? "", listingOf(new URL(request.url).searchParams));
        return null;
      },
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
}
