import { createBrowserRouter, Navigate, type RouteObject } from "react-router";

import { annotationsRoutes } from "@/features/annotations";
import { datasetRevisionsRoutes } from "@/features/dataset-revisions";
import { datasetRoutes } from "@/features/datasets";
import { jobsRoutes } from "@/features/jobs";
import { pipelineRoutes } from "@/features/pipeline";
import { projectsRoutes } from "@/features/projects";
import { registryRoutes } from "@/features/registry";
import { revisionsRoutes } from "@/features/revisions";
import { settingsRoutes } from "@/features/settings";
import { trainingRoutes } from "@/features/training";

import { sessionQuery } from "@/lib/session";

import { NotFound } from "./NotFound";
import { RouteError } from "./RouteError";
import { SessionGate } from "./SessionGate";
import { queryClient } from "./queryClient";
import { Shell } from "./Shell";

/**
 * Every page, by feature. A feature exports its routes (paths relative to `/`, components loaded lazily)
 * from its index.ts; add them to the list below. Paths follow lib/paths.ts.
 */
const pages: RouteObject[] = [
  { index: true, element: <Navigate to="/projects" replace /> },
  ...projectsRoutes,
  ...datasetRoutes(queryClient),
  ...annotationsRoutes,
  ...datasetRevisionsRoutes,
  ...trainingRoutes,
  ...revisionsRoutes,
  ...jobsRoutes,
  ...settingsRoutes,
  ...pipelineRoutes,
  ...registryRoutes,
];

export const router = createBrowserRouter([
  {
    // The session is asked for while the first page's code loads, not after it.
    loader: () => {
      void queryClient.prefetchQuery(sessionQuery);
      return null;
    },
    shouldRevalidate: () => false,
    element: (
      <SessionGate>
        <Shell />
      </SessionGate>
    ),
    children: [
      {
        errorElement: <RouteError />,
        children: [...pages, { path: "*", element: <NotFound /> }],
      },
    ],
  },
]);
