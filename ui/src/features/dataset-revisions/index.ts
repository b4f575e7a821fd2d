export { datasetRevisionsRoutes } from "./routes";
