import { Tabs } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";

import { PageHeader } from "@/components";
import { useAllowed } from "@/lib/session";
import { useSearchParam } from "@/lib/useSearchState";

import { ArchitecturesPanel } from "./ArchitecturesPanel";
import { StoragePanel } from "./StoragePanel";
import { TokensPanel } from "./TokensPanel";

const TABS = ["architectures", "storage", "tokens"] as const;

/** Architectures and their weights, storage usage and checks, tokens; each tab has its own address (?tab=). */
export function SettingsPage() {
  useDocumentTitle("Settings · modelyard");
  const admin = useAllowed("admin");
  const [tab, setTab] = useSearchParam("tab");
  const current = TABS.find((name) => name === tab) ?? "architectures";
  return (
    <>
      <PageHeader title="Settings and storage" />
      <Tabs value={current} onChange={(value) => setTab(value === "architectures" ? null : value)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="architectures">Architectures and weights</Tabs.Tab>
          <Tabs.Tab value="storage">Storage</Tabs.Tab>
          <Tabs.Tab value="tokens">Tokens</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="architectures">
          <ArchitecturesPanel />
        </Tabs.Panel>
        <Tabs.Panel value="storage">
          <StoragePanel admin={admin} />
        </Tabs.Panel>
        <Tabs.Panel value="tokens">
          <TokensPanel admin={admin} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
