export { jobsRoutes } from "./routes";
