import { Skeleton } from "@mantine/core";
import type { EChartsCoreOption, EChartsType } from "echarts/core";
import { useEffect, useRef, useState } from "react";

import { ProblemAlert } from "./ProblemAlert";

interface EChartProps {
  option: EChartsCoreOption;
  /** What the chart shows, for screen readers (a chart is an image to them); give the numbers as text nearby. */
  label: string;
  height?: number;
  /** A click on a data item (a graph node): its `data` as given in the option. */
  onItemClick?: (data: unknown) => void;
  /** Replace the option instead of merging it (a chart whose series come and go). */
  replace?: boolean;
  testId?: string;
}

/**
 * A chart drawn by ECharts (line, bar, scatter, heat map), whose code loads with the first chart on screen.
 * Updating `option` redraws in place (merged), so live curves stay smooth.
 */
export function EChart({ option, label, height = 320, onItemClick, replace = false, testId = "chart" }: EChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState<unknown>(null);
  const clickHandler = useRef(onItemClick);
  useEffect(() => {
    clickHandler.current = onItemClick;
  });

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    import("./echarts")
      .then(({ echarts }) => {
        if (disposed || !box.current) return;
        chart.current = echarts.init(box.current, undefined, { renderer: "canvas" });
        chart.current.on("click", (params: { data?: unknown }) => clickHandler.current?.(params.data));
        observer = new ResizeObserver(() => chart.current?.resize());
        observer.observe(box.current);
        setReady(true);
      })
      .catch(setFailed);
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    if (ready) chart.current?.setOption(option, { notMerge: replace });
  }, [ready, option, replace]);

  if (failed) return <ProblemAlert title="The chart could not be drawn" error={failed} />;
  return (
    <div style={{ position: "relative", height }}>
      {!ready && <Skeleton height={height} style={{ position: "absolute", inset: 0 }} />}
      <div ref={box} role="img" aria-label={label} style={{ height }} data-testid={testId} data-ready={ready ? "true" : "false"} />
    </div>
  );
}
