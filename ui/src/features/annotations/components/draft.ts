import type { AnnotationIn, Item, Proposal, TaskType } from "../api/annotations";

/** A point in image pixels. */
export type Point = [number, number];

export interface DraftBox {
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
  labelId: string;
}

export interface DraftPolygon {
  key: string;
  points: Point[];
  labelId: string;
}

/** The annotation being edited: label ids, boxes or polygons (the field of the project's task is used). */
export interface Draft {
  labels: string[];
  boxes: DraftBox[];
  polygons: DraftPolygon[];
}

export const EMPTY_DRAFT: Draft = { labels: [], boxes: [], polygons: [] };

let keyCounter = 0;
/** A key for a shape of the page (React lists, selection); never sent. */
export function shapeKey(): string {
  keyCounter += 1;
  return `shape-${keyCounter}`;
}

type Shapes = Pick<NonNullable<Item["annotation"]>, "boxes" | "polygons">;

/** Boxes and polygons as the server gives them (an annotation, a proposal) made into shapes of the draft. */
function shapesOf(source: Shapes): Pick<Draft, "boxes" | "polygons"> {
  return {
    boxes: (source.boxes ?? []).map((box) => ({
      key: shapeKey(),
      x: box.x,
      y: box.y,
      width: box.width,
      height: box.height,
      labelId: box.label_id,
    })),
    polygons: (source.polygons ?? []).map((polygon) => ({
      key: shapeKey(),
      points: polygon.points.map((point) => [point[0]!, point[1]!] as Point),
      labelId: polygon.label_id,
    })),
  };
}

export function draftFromItem(item: Item): Draft {
  const annotation = item.annotation;
  if (!annotation) return EMPTY_DRAFT;
  return {
    labels: (annotation.labels ?? []).map((label) => label.id),
    ...shapesOf(annotation),
  };
}

export function draftFromProposal(task: TaskType, proposal: Proposal): Draft {
  const labels = proposal.labels ?? [];
  return {
    labels: task === "multiclass_classification" ? labels.slice(0, 1).map((label) => label.id) : labels.map((label) => label.id),
    ...shapesOf(proposal),
  };
}

/** Two decimals are plenty for pixels, and keep what is stored readable. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The request body for the task; every save from the editor records that a person reviewed the item. */
export function annotationBody(task: TaskType, draft: Draft): AnnotationIn {
  if (task === "multiclass_classification" || task === "multilabel_classification") {
    return { labels: draft.labels, user_reviewed: true };
  }
  if (task === "detection") {
    return {
      boxes: draft.boxes.map((box) => ({
        x: round(box.x),
        y: round(box.y),
        width: round(box.width),
        height: round(box.height),
        label: box.labelId,
      })),
      user_reviewed: true,
    };
  }
  return {
    polygons: draft.polygons.map((polygon) => ({
      points: polygon.points.map(([x, y]) => [round(x), round(y)] as [number, number]),
      label: polygon.labelId,
    })),
    user_reviewed: true,
  };
}

/** Whether two drafts say the same thing (shape keys aside). */
export function sameDraft(a: Draft, b: Draft): boolean {
  const strip = (draft: Draft) =>
    JSON.stringify({
      labels: draft.labels,
      boxes: draft.boxes.map(({ x, y, width, height, labelId }) => [x, y, width, height, labelId]),
      polygons: draft.polygons.map(({ points, labelId }) => [points, labelId]),
    });
  return strip(a) === strip(b);
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

export function clampPoint([x, y]: Point, width: number, height: number): Point {
  return [clamp(x, 0, width), clamp(y, 0, height)];
}

/** The box spanned by two corners, both kept inside the image. */
export function boxFromCorners(a: Point, b: Point, width: number, height: number): Omit<DraftBox, "key" | "labelId"> {
  const [x1, y1] = clampPoint(a, width, height);
  const [x2, y2] = clampPoint(b, width, height);
  return { x: Math.min(x1, x2), y: Math.min(y1, y2), width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) };
}

/** A box moved by (dx, dy), stopped at the image's edges. */
export function movedBox(box: DraftBox, dx: number, dy: number, width: number, height: number): DraftBox {
  return {
    ...box,
    x: clamp(box.x + dx, 0, Math.max(0, width - box.width)),
    y: clamp(box.y + dy, 0, Math.max(0, height - box.height)),
  };
}

/** A polygon moved by (dx, dy), stopped where any point would leave the image. */
export function movedPolygon(polygon: DraftPolygon, dx: number, dy: number, width: number, height: number): DraftPolygon {
  const bounds = polygonBounds(polygon.points);
  const stepX = clamp(dx, -bounds.x, width - (bounds.x + bounds.width));
  const stepY = clamp(dy, -bounds.y, height - (bounds.y + bounds.height));
  return { ...polygon, points: polygon.points.map(([x, y]) => [x + stepX, y + stepY] as Point) };
}

/** The box around a polygon (the box-from-polygon view). */
export function polygonBounds(points: Point[]): { x: number; y: number; width: number; height: number } {
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

export function polygonArea(points: Point[]): number {
  let total = 0;
  points.forEach(([x1, y1], index) => {
    const [x2, y2] = points[(index + 1) % points.length]!;
    total += x1 * y2 - x2 * y1;
  });
  return Math.abs(total) / 2;
}
