import { NumberInput, Select, SimpleGrid, Switch } from "@mantine/core";

import { problemWith, type FieldSpec, type Value, type Values } from "./hyperparameters";

interface HyperparameterFormProps {
  fields: FieldSpec[];
  values: Values;
  onChange: (path: string, value: Value) => void;
  /** Errors the server gave per field (its 400 names the field). */
  serverErrors: Record<string, string>;
  /** Show the client-side checks (after a first try to start). */
  showErrors: boolean;
}

function label(path: string): string {
  return path.replaceAll("_", " ").replaceAll(".", " › ");
}

/** Errors in a red dark enough to read (4.5:1 on white); the typed value keeps the text colour. */
const READABLE_ERRORS = { error: { color: "var(--mantine-color-red-9)" }, input: { color: "var(--mantine-color-text)" } };

/** One input per manifest parameter: numbers bounded, choices from a list, switches for booleans. */
export function HyperparameterForm({ fields, values, onChange, serverErrors, showErrors }: HyperparameterFormProps) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm">
      {fields.map((field) => {
        const value = values[field.path];
        const error = serverErrors[field.path] ?? (showErrors ? problemWith(field, value) : null);
        if (field.type === "bool") {
          return (
            <Switch
              key={field.path}
              label={label(field.path)}
              description={field.description || undefined}
              checked={Boolean(value)}
              onChange={(event) => onChange(field.path, event.currentTarget.checked)}
              error={error ?? undefined}
              styles={READABLE_ERRORS}
              mt="md"
            />
          );
        }
        if (field.type === "choice") {
          return (
            <Select
              key={field.path}
              label={label(field.path)}
              description={field.description || undefined}
              data={field.choices}
              value={typeof value === "string" ? value : null}
              onChange={(choice) => choice && onChange(field.path, choice)}
              allowDeselect={false}
              error={error ?? undefined}
              styles={READABLE_ERRORS}
            />
          );
        }
        return (
          <NumberInput
            key={field.path}
            label={label(field.path)}
            description={field.description || `${field.min} to ${field.max}`}
            value={typeof value === "number" ? value : ""}
            onChange={(next) => onChange(field.path, typeof next === "number" ? next : next === "" ? "" : Number(next))}
            min={field.min}
            max={field.max}
            clampBehavior="none"
            allowDecimal={field.type === "float"}
            decimalScale={field.type === "float" ? 8 : 0}
            step={field.type === "int" ? 1 : undefined}
            error={error ?? undefined}
            styles={READABLE_ERRORS}
          />
        );
      })}
    </SimpleGrid>
  );
}
