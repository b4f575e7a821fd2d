/**
 * Training curves as ECharts options (plain data: no chart code is loaded here). One record per epoch, as
 * `GET /models/{id}/metrics` and the job's `metrics` events give them.
 */
export interface EpochRecord {
  epoch: number;
  train_loss: number;
  metric_name: string;
  metric_value: number;
  seconds?: number;
  learning_rate?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The records among `values` that are epoch records, by epoch, each epoch once (the latest wins). */
export function epochRecords(values: unknown[]): EpochRecord[] {
  const byEpoch = new Map<number, EpochRecord>();
  for (const value of values) {
    if (isRecord(value) && typeof value.epoch === "number" && typeof value.train_loss === "number") {
      byEpoch.set(value.epoch, value as unknown as EpochRecord);
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

export interface CurveRun {
  name: string;
  records: EpochRecord[];
}

/** Loss (left axis) and validation metric (right axis) per epoch, one pair of lines per run. */
export function curvesOption(runs: CurveRun[]) {
  const single = runs.length === 1;
  const metricNames = [...new Set(runs.flatMap((run) => run.records.map((record) => record.metric_name)))];
  return {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 48, top: 36, bottom: 32 },
    xAxis: { type: "value", name: "epoch", minInterval: 1, nameLocation: "middle", nameGap: 22 },
    yAxis: [
      { type: "value", name: "loss" },
      { type: "value", name: metricNames.join(", ") || "metric", min: 0, max: 1 },
    ],
    series: runs.flatMap((run) => [
      {
        name: single ? "training loss" : `${run.name} loss`,
        type: "line",
        yAxisIndex: 0,
        showSymbol: true,
        data: run.records.map((record) => [record.epoch, record.train_loss]),
      },
      {
        name: single ? `validation ${run.records[0]?.metric_name ?? "metric"}` : `${run.name} ${run.records[0]?.metric_name ?? "metric"}`,
        type: "line",
        yAxisIndex: 1,
        lineStyle: { type: "dashed" },
        showSymbol: true,
        data: run.records.map((record) => [record.epoch, record.metric_value]),
      },
    ]),
  };
}
