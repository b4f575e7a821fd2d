import { useQueryClient } from "@tanstack/react-query";
import { useEffect, type ReactNode } from "react";

import { onUnauthorized } from "@/api";
import { LoadingState, ProblemAlert } from "@/components";
import { sessionKey } from "@/lib/queryKeys";
import { SignInPage } from "@/features/session";
import { useSession } from "@/lib/session";

/**
 * The sign-in page stands in for any page while the server wants a session and there is none; signing in
 * shows the page that was asked for (its URL never changed). A 401 from any request asks the server again.
 */
export function SessionGate({ children }: { children: ReactNode }) {
  const session = useSession();
  const client = useQueryClient();
  useEffect(() => onUnauthorized(() => void client.invalidateQueries({ queryKey: sessionKey })), [client]);

  if (session.isPending) return <LoadingState label="Connecting" />;
  if (session.isError) {
    return (
      <main style={{ padding: 24 }}>
        <ProblemAlert title="modelyard could not be reached" error={session.error} />
      </main>
    );
  }
  if (session.data.auth_required && !session.data.user) return <SignInPage />;
  return <>{children}</>;
}
