export { trainingRoutes } from "./routes";
