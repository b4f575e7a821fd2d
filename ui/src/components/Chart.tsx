import { Box, Center, Loader } from "@mantine/core";
import type { EChartsCoreOption } from "echarts/core";
import { useEffect, useRef, useState } from "react";

import type * as ChartSetup from "./echartsSetup";

type ChartModule = typeof ChartSetup;
let loading: Promise<ChartModule> | null = null;

/** ECharts and the parts the pages use, fetched on the first chart drawn (never with the first page). */
function loadCharts(): Promise<ChartModule> {
  loading ??= import("./echartsSetup");
  return loading;
}

interface ChartProps {
  option: EChartsCoreOption;
  /** What the chart shows, for screen readers (the page gives the same figures as a table too). */
  label: string;
  height?: number;
  /** A click on a data item (a graph node, a bar): its `data` as given in the option. */
  onItemClick?: (data: unknown) => void;
  testId?: string;
}

/** A chart drawn by ECharts, which loads lazily; the option is replaced whenever it changes. */
export function Chart({ option, label, height = 260, onItemClick, testId }: ChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<ChartModule["echarts"]["init"]> | null>(null);
  const [ready, setReady] = useState(false);
  const clickHandler = useRef(onItemClick);
  useEffect(() => {
    clickHandler.current = onItemClick;
  });

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void loadCharts().then(({ echarts }) => {
      if (disposed || !holder.current) return;
      const instance = echarts.init(holder.current, undefined, { renderer: "svg" });
      instance.on("click", (params: { data?: unknown }) => clickHandler.current?.(params.data));
      chart.current = instance;
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(holder.current);
      setReady(true);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    if (ready) chart.current?.setOption(option, { notMerge: true });
  }, [ready, option]);

  return (
    <Box pos="relative" role="img" aria-label={label} data-testid={testId} data-ready={ready ? "true" : "false"}>
      <div ref={holder} style={{ height, width: "100%" }} aria-hidden />
      {!ready && (
        <Center pos="absolute" inset={0}>
          <Loader size="sm" aria-hidden />
        </Center>
      )}
    </Box>
  );
}
