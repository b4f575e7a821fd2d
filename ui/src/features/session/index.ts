export { SignInPage } from "./components/SignInPage";
