import type { RouteObject } from "react-router";

/** The settings page; its code loads when first visited. */
export const settingsRoutes: RouteObject[] = [
  { path: "settings", lazy: async () => ({ Component: (await import("./components/SettingsPage")).SettingsPage }) },
];
