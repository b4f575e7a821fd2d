export { pipelineRoutes } from "./routes";
