export { useSession, useSignIn, useSignOut, type Session } from "./api/session";
export { SignInPage } from "./components/SignInPage";
