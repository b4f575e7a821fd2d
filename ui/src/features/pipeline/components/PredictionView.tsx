import { Badge, Group, Paper, Stack, Text } from "@mantine/core";
import { useEffect, useRef, useState } from "react";

import type { FilePrediction } from "../api/pipeline";
import classes from "./PredictionView.module.css";
import { placeTags } from "./tagPlacement";

/** Dark enough that white 11 px text on each meets WCAG AA (4.5:1); tests/ui/test_palette.py checks it. */
const PALETTE = ["#c92a2a", "#1864ab", "#237a36", "#a34100", "#862e9c", "#0b7285", "#a61e4d", "#4a6f0b"];

/** The same colour for a label on every image. */
export function labelColor(labelId: string): string {
  let hash = 0;
  for (const char of labelId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

interface PredictionViewProps {
  prediction: FilePrediction;
  imageUrl: string | undefined;
  threshold: number;
}

/** One image with what the model found drawn over it: boxes, masks (polygons) and labels above the threshold. */
export function PredictionView({ prediction, imageUrl, threshold }: PredictionViewProps) {
  const found = prediction.objects ?? [];
  const objects = found.filter((object) => object.label.score >= threshold);
  const labels = (prediction.labels ?? []).filter((label) => label.score >= threshold);
  const { width, height } = prediction;
  const frame = useRef<HTMLDivElement>(null);
  const [shownWidth, setShownWidth] = useState(0);
  useEffect(() => {
    const element = frame.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setShownWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const tagText = (object: (typeof objects)[number]) => `${object.label.name} ${object.label.score.toFixed(2)}`;
  const spots =
    shownWidth > 0 && width > 0
      ? placeTags(
          objects.map((object) => ({ box: object.box, text: tagText(object), score: object.label.score })),
          shownWidth / width,
        )
      : [];
  return (
    <Paper withBorder p="sm" data-testid="prediction">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600} size="sm">
            {prediction.file}
          </Text>
          <Text size="xs" c="dimmed">
            {width}×{height} · {prediction.task}
          </Text>
        </Group>
        <div ref={frame} style={{ position: "relative", maxWidth: 560 }}>
          {imageUrl && <img src={imageUrl} alt={prediction.file} style={{ width: "100%", display: "block" }} />}
          <svg
            viewBox={`0 0 ${width} ${height}`}
            preserveAspectRatio="none"
            style={{ position: "absolute", inset: 0, width: "100%", height: "100%" }}
            role="img"
            aria-label={`${objects.length} objects found in ${prediction.file}`}
            data-testid="overlay"
          >
            {objects.map((object, index) => {
              const [x = 0, y = 0, w = 0, h = 0] = object.box;
              const color = labelColor(object.label.id);
              return (
                <g key={index} data-testid="overlay-object">
                  {(object.polygons ?? []).map((polygon, polygonIndex) => (
                    <polygon
                      key={polygonIndex}
                      points={polygon.join(" ")}
                      fill={color}
                      fillOpacity={0.35}
                      stroke={color}
                      strokeWidth={2}
                      vectorEffect="non-scaling-stroke"
                      data-testid="overlay-mask"
                    />
                  ))}
                  <rect x={x} y={y} width={w} height={h} fill="none" stroke={color} strokeWidth={2} vectorEffect="non-scaling-stroke" data-testid="overlay-box" />
                </g>
              );
            })}
          </svg>
          {spots.map(({ index, inside }) => {
            const object = objects[index]!;
            const [x = 0, y = 0] = object.box;
            return (
              <span
                key={index}
                className={inside ? `${classes.tag} ${classes.inside}` : classes.tag}
                style={{ left: `${(100 * x) / width}%`, top: `${(100 * y) / height}%`, background: labelColor(object.label.id) }}
                data-testid="overlay-label"
              >
                {tagText(object)}
              </span>
            );
          })}
        </div>
        {(prediction.task.includes("classification") || labels.length > 0) && (
          <Group gap="xs" data-testid="predicted-labels">
            {labels.length === 0 && (
              <Text size="sm" c="dimmed">
                No label above the threshold.
              </Text>
            )}
            {labels.map((label) => (
              <Badge key={label.id} color={labelColor(label.id)} variant="filled" tt="none">
                {label.name} {label.score.toFixed(2)}
              </Badge>
            ))}
          </Group>
        )}
        {found.length > 0 && (
          <Text size="xs" c="dimmed" data-testid="object-count">
            {objects.length} of {found.length} objects at score ≥ {threshold.toFixed(2)}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
