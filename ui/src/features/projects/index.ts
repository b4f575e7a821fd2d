export { projectsRoutes } from "./routes";
