/**
 * The manifest's hyperparameter schema as flat fields (`augmentations.color_jitter`), their checks, and the
 * nested overrides the API takes. The server checks again; its 400 names the field, shown on that field.
 */
export type FieldSpec =
  | { path: string; type: "float" | "int"; default: number; min: number; max: number; description: string }
  | { path: string; type: "choice"; default: string; choices: string[]; description: string }
  | { path: string; type: "bool"; default: boolean; description: string };

export type Value = number | string | boolean;
export type Values = Record<string, Value>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const TYPES = new Set(["float", "int", "choice", "bool"]);

/** Every parameter of the manifest's `hyperparameters`, groups (a mapping without `type`) flattened. */
export function fieldsOf(schema: Record<string, unknown>, prefix = ""): FieldSpec[] {
  return Object.entries(schema).flatMap(([name, entry]): FieldSpec[] => {
    if (!isRecord(entry)) return [];
    const path = `${prefix}${name}`;
    if (typeof entry.type === "string" && TYPES.has(entry.type)) {
      return [{ ...(entry as object), path, description: String(entry.description ?? "") } as FieldSpec];
    }
    return fieldsOf(entry, `${path}.`);
  });
}

/** The value at a dotted path of a nested object. */
export function valueAt(source: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), source);
}

/** What is wrong with a value, or null: the manifest's type, bounds and choices. */
export function problemWith(field: FieldSpec, value: Value | undefined): string | null {
  if (value === undefined || value === "") return "required";
  if (field.type === "float" || field.type === "int") {
    if (typeof value !== "number" || Number.isNaN(value)) return "must be a number";
    if (field.type === "int" && !Number.isInteger(value)) return "must be a whole number";
    if (value < field.min) return `must be ≥ ${field.min}`;
    if (value > field.max) return `must be ≤ ${field.max}`;
  }
  if (field.type === "choice" && !field.choices.includes(String(value))) return `must be one of ${field.choices.join(", ")}`;
  return null;
}

/** The values that differ from `base` as the nested overrides the API takes. */
export function overridesFrom(fields: FieldSpec[], values: Values, base: Record<string, unknown>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.path];
    if (value === undefined || value === valueAt(base, field.path)) continue;
    const keys = field.path.split(".");
    let node = overrides;
    keys.slice(0, -1).forEach((key) => {
      node[key] = isRecord(node[key]) ? node[key] : {};
      node = node[key] as Record<string, unknown>;
    });
    node[keys[keys.length - 1]!] = value;
  }
  return overrides;
}
