import { Button, Center, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { useState, type FormEvent } from "react";

import { ProblemAlert } from "@/components";
import { useSignIn } from "@/lib/session";

/** Sign-in with an API token; the server answers with an HttpOnly session cookie and the page stays where it was. */
export function SignInPage() {
  useDocumentTitle("Sign in · modelyard");
  const [token, setToken] = useState("");
  const signIn = useSignIn();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) signIn.mutate(token.trim());
  };
  return (
    <Center mih="100vh" component="main" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} maw="100%">
        <form onSubmit={submit} aria-labelledby="sign-in-title">
          <Stack>
            <Title order={1} size="h3" id="sign-in-title">
              Sign in to modelyard
            </Title>
            <Text size="sm" c="dimmed">
              Paste an API token (made with <code>modelyard token create</code>). The browser keeps a session
              cookie, never the token.
            </Text>
            <PasswordInput
              label="API token"
              placeholder="my_…"
              value={token}
              onChange={(event) => setToken(event.currentTarget.value)}
              autoComplete="current-password"
              data-autofocus
              required
            />
            {signIn.isError && <ProblemAlert title="Not signed in" error={signIn.error} />}
            <Button type="submit" loading={signIn.isPending} disabled={!token.trim()}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
