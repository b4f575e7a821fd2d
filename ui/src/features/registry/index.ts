export { registryRoutes } from "./routes";
