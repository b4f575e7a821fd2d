import { useEffect, useLayoutEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from "react";

import type { TaskType } from "../api/annotations";
import classes from "./AnnotationCanvas.module.css";
import {
  boxFromCorners,
  clampPoint,
  movedBox,
  movedPolygon,
  polygonBounds,
  shapeKey,
  type Draft,
  type DraftBox,
  type Point,
} from "./draft";

export type Tool = "select" | "box" | "polygon" | "pan";

/** The part of the image on screen, in image pixels (the SVG's viewBox): zoom and pan change it. */
export interface View {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function fitView(width: number, height: number): View {
  return { x: 0, y: 0, width, height };
}

/** The view zoomed by `factor` (< 1 zooms in) around a point of the image. */
export function zoomView(view: View, factor: number, [px, py]: Point, imageWidth: number): View {
  const width = Math.min(Math.max(view.width * factor, 8), imageWidth * 8);
  const scale = width / view.width;
  return { x: px - (px - view.x) * scale, y: py - (py - view.y) * scale, width, height: view.height * scale };
}

type Gesture =
  | { kind: "draw-box"; start: Point }
  | { kind: "move-box"; key: string; origin: DraftBox; from: Point }
  | { kind: "resize-box"; key: string; anchor: Point }
  | { kind: "move-polygon"; key: string; from: Point }
  | { kind: "move-vertex"; key: string; index: number }
  | { kind: "pan"; from: [number, number]; view: View };

interface CanvasProps {
  imageUrl: string;
  imageName: string;
  width: number;
  height: number;
  task: TaskType;
  draft: Draft;
  colors: Record<string, string>;
  names: Record<string, string>;
  tool: Tool;
  currentLabel: string | null;
  selected: string | null;
  onSelect: (key: string | null) => void;
  /** A change during a gesture (one undo step when `onCommit` ends it). */
  onPreview: (draft: Draft) => void;
  onCommit: () => void;
  /** A change that is one undo step by itself. */
  onSet: (draft: Draft) => void;
  proposal: Draft | null;
  showPolygonBoxes: boolean;
  view: View;
  onView: (view: View) => void;
  pendingPolygon: Point[];
  onPendingPolygon: (points: Point[]) => void;
}

const CLOSE_DISTANCE_PX = 10;
const MIN_BOX_PX = 3;

/** The image with the annotation drawn over it; drawing, moving, resizing and vertex editing by pointer. */
export function AnnotationCanvas(props: CanvasProps) {
  const { width, height, draft, view, tool, selected, colors } = props;
  const svg = useRef<SVGSVGElement>(null);
  const gesture = useRef<Gesture | null>(null);
  const [drawing, setDrawing] = useState<Omit<DraftBox, "key" | "labelId"> | null>(null);
  const [cursor, setCursor] = useState<Point | null>(null);
  const [screen, setScreen] = useState({ width: 800, height: 600 });
  const latest = useRef(props);
  useLayoutEffect(() => {
    latest.current = props;
  });

  useEffect(() => {
    const element = svg.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setScreen({ width: entry.contentRect.width, height: entry.contentRect.height });
    });
    observer.observe(element);
    // Wheel zoom must cancel the page's scroll: a passive React listener cannot.
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const current = latest.current;
      const at = toImage(element, event.clientX, event.clientY);
      current.onView(zoomView(current.view, event.deltaY > 0 ? 1.15 : 1 / 1.15, at, current.width));
    };
    element.addEventListener("wheel", onWheel, { passive: false });
    return () => {
      observer.disconnect();
      element.removeEventListener("wheel", onWheel);
    };
  }, []);

  // Image pixels per screen pixel: handles and strokes keep their size on screen at any zoom.
  const unit = Math.max(view.width / Math.max(screen.width, 1), view.height / Math.max(screen.height, 1));

  const point = (event: ReactPointerEvent): Point => toImage(svg.current!, event.clientX, event.clientY);

  function onPointerDown(event: ReactPointerEvent<SVGSVGElement>) {
    if (event.button !== 0 && event.button !== 1) return;
    const at = point(event);
    const target = event.target as Element;
    const shape = target.closest("[data-shape]")?.getAttribute("data-shape") ?? null;
    const handle = target.closest("[data-handle]")?.getAttribute("data-handle") ?? null;
    svg.current!.setPointerCapture(event.pointerId);
    if (tool === "pan" || event.button === 1) {
      gesture.current = { kind: "pan", from: [event.clientX, event.clientY], view };
      return;
    }
    if (tool === "box") {
      gesture.current = { kind: "draw-box", start: clampPoint(at, width, height) };
      return;
    }
    if (tool === "polygon") {
      addPolygonPoint(clampPoint(at, width, height));
      return;
    }
    // select: handles first, then shapes; the background clears the selection.
    if (handle !== null && selected) {
      const box = draft.boxes.find((candidate) => candidate.key === selected);
      if (box) {
        const corner = Number(handle);
        const anchor: Point = [corner % 2 === 0 ? box.x + box.width : box.x, corner < 2 ? box.y + box.height : box.y];
        gesture.current = { kind: "resize-box", key: box.key, anchor };
        return;
      }
      const polygon = draft.polygons.find((candidate) => candidate.key === selected);
      if (polygon) {
        const index = Number(handle);
        if (event.altKey && polygon.points.length > 3) {
          props.onSet(replacePolygon(draft, { ...polygon, points: polygon.points.filter((_, i) => i !== index) }));
          return;
        }
        gesture.current = { kind: "move-vertex", key: polygon.key, index };
        return;
      }
    }
    props.onSelect(shape);
    if (!shape) return;
    const box = draft.boxes.find((candidate) => candidate.key === shape);
    if (box) gesture.current = { kind: "move-box", key: shape, origin: box, from: at };
    else gesture.current = { kind: "move-polygon", key: shape, from: at };
  }

  function onPointerMove(event: ReactPointerEvent<SVGSVGElement>) {
    const at = point(event);
    setCursor(at);
    const current = gesture.current;
    if (!current) return;
    if (current.kind === "pan") {
      const dx = (event.clientX - current.from[0]) * unit;
      const dy = (event.clientY - current.from[1]) * unit;
      props.onView({ ...current.view, x: current.view.x - dx, y: current.view.y - dy });
    } else if (current.kind === "draw-box") {
      setDrawing(boxFromCorners(current.start, at, width, height));
    } else if (current.kind === "move-box") {
      const moved = movedBox(current.origin, at[0] - current.from[0], at[1] - current.from[1], width, height);
      props.onPreview({ ...draft, boxes: draft.boxes.map((box) => (box.key === current.key ? moved : box)) });
    } else if (current.kind === "resize-box") {
      const resized = boxFromCorners(current.anchor, at, width, height);
      props.onPreview({
        ...draft,
        boxes: draft.boxes.map((box) => (box.key === current.key ? { ...box, ...resized } : box)),
      });
    } else if (current.kind === "move-polygon") {
      const polygon = draft.polygons.find((candidate) => candidate.key === current.key);
      if (!polygon) return;
      const moved = movedPolygon(polygon, at[0] - current.from[0], at[1] - current.from[1], width, height);
      // The start moves with the polygon by what it really moved (the edges may have stopped it).
      const first = polygon.points[0]!;
      const step: Point = [moved.points[0]![0] - first[0], moved.points[0]![1] - first[1]];
      gesture.current = { ...current, from: [current.from[0] + step[0], current.from[1] + step[1]] };
      props.onPreview(replacePolygon(draft, moved));
    } else if (current.kind === "move-vertex") {
      const polygon = draft.polygons.find((candidate) => candidate.key === current.key);
      if (!polygon) return;
      const points = polygon.points.map((vertex, index) => (index === current.index ? clampPoint(at, width, height) : vertex));
      props.onPreview(replacePolygon(draft, { ...polygon, points }));
    }
  }

  function onPointerUp(event: ReactPointerEvent<SVGSVGElement>) {
    const current = gesture.current;
    gesture.current = null;
    if (svg.current?.hasPointerCapture(event.pointerId)) svg.current.releasePointerCapture(event.pointerId);
    if (!current) return;
    if (current.kind === "draw-box") {
      const box = boxFromCorners(current.start, point(event), width, height);
      setDrawing(null);
      if (box.width / unit < MIN_BOX_PX || box.height / unit < MIN_BOX_PX || !props.currentLabel) return;
      const key = shapeKey();
      props.onSet({ ...draft, boxes: [...draft.boxes, { ...box, key, labelId: props.currentLabel }] });
      props.onSelect(key);
    } else if (current.kind !== "pan") {
      props.onCommit();
    }
  }

  function addPolygonPoint(at: Point) {
    const pending = props.pendingPolygon;
    const first = pending[0];
    if (first && pending.length >= 3 && Math.hypot(at[0] - first[0], at[1] - first[1]) / unit <= CLOSE_DISTANCE_PX) {
      closePolygon(props, pending);
      return;
    }
    props.onPendingPolygon([...pending, at]);
  }

  const viewBox = `${view.x} ${view.y} ${view.width} ${view.height}`;
  const stroke = 2 * unit;
  const handle = 5 * unit;
  const count =
    props.task === "detection" ? `${draft.boxes.length} boxes` : `${draft.polygons.length} polygons`;
  return (
    <svg
      ref={svg}
      className={classes.canvas}
      viewBox={viewBox}
      data-tool={tool}
      data-testid="canvas"
      role="img"
      aria-label={`${props.imageName}, ${width}×${height}, ${count}`}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerLeave={() => setCursor(null)}
    >
      <image href={props.imageUrl} x={0} y={0} width={width} height={height} preserveAspectRatio="none" />
      <rect x={0} y={0} width={width} height={height} fill="none" stroke="#0006" strokeWidth={unit} />
      {props.proposal?.boxes.map((box) => (
        <rect key={box.key} x={box.x} y={box.y} width={box.width} height={box.height} fill="none"
          stroke={colors[box.labelId] ?? "#fff"} strokeWidth={stroke} strokeDasharray={`${6 * unit} ${4 * unit}`}
          pointerEvents="none" data-testid="proposed-box" />
      ))}
      {props.proposal?.polygons.map((polygon) => (
        <polygon key={polygon.key} points={polygon.points.map((p) => p.join(",")).join(" ")} fill="none"
          stroke={colors[polygon.labelId] ?? "#fff"} strokeWidth={stroke} strokeDasharray={`${6 * unit} ${4 * unit}`}
          pointerEvents="none" data-testid="proposed-polygon" />
      ))}
      {draft.boxes.map((box) => {
        const color = colors[box.labelId] ?? "#fff";
        const isSelected = box.key === selected;
        return (
          <g key={box.key} data-shape={box.key} data-testid="box" data-label={props.names[box.labelId]}>
            <rect x={box.x} y={box.y} width={box.width} height={box.height} fill={color}
              fillOpacity={isSelected ? 0.3 : 0.15} stroke={color} strokeWidth={isSelected ? stroke * 1.5 : stroke}
              className={classes.shape} />
            {isSelected && tool === "select" &&
              [0, 1, 2, 3].map((corner) => (
                <rect key={corner} data-handle={corner} data-testid="handle"
                  x={(corner % 2 === 0 ? box.x : box.x + box.width) - handle}
                  y={(corner < 2 ? box.y : box.y + box.height) - handle}
                  width={handle * 2} height={handle * 2} fill="#fff" stroke={color} strokeWidth={unit}
                  className={classes[corner === 0 || corner === 3 ? "resizeMain" : "resizeCross"]} />
              ))}
          </g>
        );
      })}
      {draft.polygons.map((polygon) => {
        const color = colors[polygon.labelId] ?? "#fff";
        const isSelected = polygon.key === selected;
        const bounds = polygonBounds(polygon.points);
        return (
          <g key={polygon.key} data-shape={polygon.key} data-testid="polygon" data-label={props.names[polygon.labelId]}>
            <polygon points={polygon.points.map((p) => p.join(",")).join(" ")} fill={color}
              fillOpacity={isSelected ? 0.35 : 0.2} stroke={color} strokeWidth={isSelected ? stroke * 1.5 : stroke}
              className={classes.shape} />
            {props.showPolygonBoxes && (
              <rect x={bounds.x} y={bounds.y} width={bounds.width} height={bounds.height} fill="none" stroke={color}
                strokeWidth={unit} strokeDasharray={`${3 * unit} ${3 * unit}`} pointerEvents="none"
                data-testid="polygon-box" />
            )}
            {isSelected && tool === "select" &&
              polygon.points.map(([x, y], index) => (
                <circle key={index} data-handle={index} data-testid="vertex" cx={x} cy={y} r={handle} fill="#fff"
                  stroke={color} strokeWidth={unit} className={classes.vertex} />
              ))}
          </g>
        );
      })}
      {drawing && (
        <rect x={drawing.x} y={drawing.y} width={drawing.width} height={drawing.height} fill="none"
          stroke={colors[props.currentLabel ?? ""] ?? "#fff"} strokeWidth={stroke} pointerEvents="none" />
      )}
      {props.pendingPolygon.length > 0 && (
        <g pointerEvents="none" data-testid="pending-polygon">
          <polyline
            points={[...props.pendingPolygon, ...(cursor ? [clampPoint(cursor, width, height)] : [])]
              .map((p) => p.join(","))
              .join(" ")}
            fill="none" stroke={colors[props.currentLabel ?? ""] ?? "#fff"} strokeWidth={stroke} />
          {props.pendingPolygon.map(([x, y], index) => (
            <circle key={index} cx={x} cy={y} r={handle * (index === 0 ? 1.4 : 1)} fill="#fff"
              stroke={colors[props.currentLabel ?? ""] ?? "#000"} strokeWidth={unit} />
          ))}
        </g>
      )}
    </svg>
  );
}

function replacePolygon(draft: Draft, polygon: Draft["polygons"][number]): Draft {
  return { ...draft, polygons: draft.polygons.map((candidate) => (candidate.key === polygon.key ? polygon : candidate)) };
}

/** Ends the polygon being drawn: a shape of the current label when it has 3 points or more. */
export function closePolygon(
  props: Pick<CanvasProps, "draft" | "currentLabel" | "onSet" | "onSelect" | "onPendingPolygon">,
  points: Point[],
) {
  props.onPendingPolygon([]);
  if (points.length < 3 || !props.currentLabel) return;
  const key = shapeKey();
  props.onSet({ ...props.draft, polygons: [...props.draft.polygons, { key, points, labelId: props.currentLabel }] });
  props.onSelect(key);
}

/** A screen point in image pixels, through the SVG's own transform (viewBox, fit and zoom). */
function toImage(element: SVGSVGElement, clientX: number, clientY: number): Point {
  const matrix = element.getScreenCTM();
  if (!matrix) return [0, 0];
  const at = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
  return [at.x, at.y];
}
