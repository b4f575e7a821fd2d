import { Alert, ColorInput, createTheme, MantineProvider, Modal, type CSSVariablesResolver } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "react-router";

import { queryClient } from "./queryClient";
import { router } from "./router";

const theme = createTheme({
  primaryColor: "indigo",
  // Darker shades than the defaults so text on light fills keeps a 4.5:1 contrast.
  primaryShade: 8,
  defaultRadius: "sm",
  // Icon-only buttons inside Mantine's widgets get names screen readers can say.
  components: {
    // Alert titles in dark text: the light greens and yellows of the defaults are too pale on their tint.
    Alert: Alert.extend({ styles: { title: { color: "var(--mantine-color-dark-9)" } } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }),
    ColorInput: ColorInput.extend({ defaultProps: { eyeDropperButtonProps: { "aria-label": "Pick a colour from the screen" } } }),
  },
});

// Dimmed text and fields' placeholders darker than Mantine's defaults, for a 4.5:1 contrast on white and light grey.
const resolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { "--mantine-color-dimmed": "var(--mantine-color-gray-7)", "--mantine-color-placeholder": "var(--mantine-color-gray-7)" },
  dark: {},
});

export function App() {
  return (
    <MantineProvider theme={theme} defaultColorScheme="light" cssVariablesResolver={resolver}>
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>
  );
}
