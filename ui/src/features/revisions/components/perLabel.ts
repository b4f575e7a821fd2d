import type { Evaluation } from "../api/revisions";

/** One label's figures in an evaluation (`per_label.labels[]`): classification P/R/F1, detection AP. */
export interface LabelFigures {
  label: string;
  precision?: number | null;
  recall?: number | null;
  f1?: number | null;
  support?: number | null;
  average_precision?: number | null;
}

export function labelFigures(evaluation: Evaluation): LabelFigures[] {
  const labels = (evaluation.per_label as { labels?: unknown }).labels;
  return Array.isArray(labels) ? (labels as LabelFigures[]) : [];
}

export function figure(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : value.toFixed(3);
}

/** Flattened `{augmentations: {flip: true}}` -> `{"augmentations.flip": true}`, for tables and diffs. */
export function flatten(source: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(source).flatMap(([key, value]) =>
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? Object.entries(flatten(value as Record<string, unknown>, `${prefix}${key}.`))
        : [[`${prefix}${key}`, value]],
    ),
  );
}

export function shown(value: unknown): string {
  return value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value);
}
