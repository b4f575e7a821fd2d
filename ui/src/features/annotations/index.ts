export { annotationsRoutes } from "./routes";
