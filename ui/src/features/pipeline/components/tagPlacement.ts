/** Where the label tags of detected objects go, so that no tag covers another and every shown tag is readable. */

/** A tag's height and the width of one of its characters, in screen pixels (11 px bold text, 4 px padding). */
const TAG_HEIGHT = 16;
const CHARACTER_WIDTH = 7;
const TAG_PADDING = 8;

export interface TagSpot {
  /** The object's index in the list given. */
  index: number;
  /** Above the box's top edge, or inside it when the box touches the image's top. */
  inside: boolean;
}

interface Rectangle {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function overlaps(a: Rectangle, b: Rectangle): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/**
 * The tags to draw, best score first: a tag that would cover one already placed is left out (its box is still
 * drawn, and the count under the image says how many objects there are). `scale` is screen pixels per image pixel.
 */
export function placeTags(
  objects: readonly { box: readonly number[]; text: string; score: number }[],
  scale: number,
): TagSpot[] {
  const order = objects.map((_, index) => index).sort((a, b) => objects[b]!.score - objects[a]!.score);
  const placed: Rectangle[] = [];
  const spots: TagSpot[] = [];
  for (const index of order) {
    const { box, text } = objects[index]!;
    const left = (box[0] ?? 0) * scale;
    const edge = (box[1] ?? 0) * scale;
    const inside = edge < TAG_HEIGHT;
    const top = inside ? edge : edge - TAG_HEIGHT;
    const rectangle = { left, top, right: left + text.length * CHARACTER_WIDTH + TAG_PADDING, bottom: top + TAG_HEIGHT };
    if (placed.some((other) => overlaps(rectangle, other))) continue;
    placed.push(rectangle);
    spots.push({ index, inside });
  }
  return spots;
}
