export { revisionsRoutes } from "./routes";
