export { datasetRoutes } from "./routes";
