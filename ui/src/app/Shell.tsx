import { Anchor, AppShell, Badge, Burger, Button, Divider, Group, NavLink, Progress, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, Outlet, useLocation, useMatch, useNavigation } from "react-router";

import { ProblemAlert } from "@/components";
import { useSession, useSignOut } from "@/lib/session";

import classes from "./Shell.module.css";
import { GLOBAL_NAV, projectNav, type NavEntry } from "./nav";

function isActive(pathname: string, entry: NavEntry, exact: boolean): boolean {
  const target = decodeURIComponent(entry.to);
  const here = decodeURIComponent(pathname);
  return exact ? here === target : here === target || here.startsWith(`${target}/`);
}

function NavEntries({ entries, exactFirst, onNavigate }: { entries: NavEntry[]; exactFirst: boolean; onNavigate: () => void }) {
  const { pathname } = useLocation();
  // The most specific entry that matches is the one shown active (Upload, not Dataset, on its page).
  const matching = entries.filter((entry, index) => isActive(pathname, entry, exactFirst && index === 0));
  const current = matching.reduce<NavEntry | undefined>((best, entry) => (!best || entry.to.length > best.to.length ? entry : best), undefined);
  return entries.map((entry) => {
    const active = entry === current;
    return (
      <NavLink
        key={entry.to}
        component={Link}
        to={entry.to}
        label={entry.label}
        active={active}
        aria-current={active ? "page" : undefined}
        onClick={onNavigate}
      />
    );
  });
}

function Account() {
  const session = useSession();
  const signOut = useSignOut();
  if (!session.data?.auth_required || !session.data.user) return null;
  return (
    <Group gap="xs">
      <Text size="sm" data-testid="signed-in-user">
        {session.data.user}
      </Text>
      {session.data.scope && (
        <Badge variant="light" color="gray" c="dark">
          {session.data.scope}
        </Badge>
      )}
      <Button size="xs" variant="default" onClick={() => signOut.mutate()} loading={signOut.isPending}>
        Sign out
      </Button>
      {signOut.isError && <ProblemAlert title="Not signed out" error={signOut.error} />}
    </Group>
  );
}

/** Header, navigation and the page; keyboard users start with a link that skips to the page's content. */
export function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const navigation = useNavigation();
  const projectMatch = useMatch("/projects/:project/*");
  const project = projectMatch?.params.project;
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <a href="#main" className={classes.skip}>
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Anchor component={Link} to="/projects" fw={700} c="dark" underline="never">
              modelyard
            </Anchor>
          </Group>
          <Account />
        </Group>
        {navigation.state === "loading" && (
          <Progress value={100} animated size="xs" radius={0} className={classes.loading} aria-label="Loading page" />
        )}
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        <NavEntries entries={GLOBAL_NAV} exactFirst={false} onNavigate={close} />
        {project && (
          <>
            <Divider my="xs" />
            <Text size="xs" fw={700} px="sm" pb={4} c="dark" truncate data-testid="nav-project">
              {project}
            </Text>
            <NavEntries entries={projectNav(project)} exactFirst onNavigate={close} />
          </>
        )}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
