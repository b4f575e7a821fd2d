/**
 * Label hotkeys as the server stores them: `((ctrl|alt|shift|meta)+)*key`, key a-z, 0-9 or f1-f12. Keys are
 * read from the physical key (`event.code`), so shift+1 is "shift+1" and not "!".
 */
function keyOf(event: KeyboardEvent): string {
  const digit = /^(?:Digit|Numpad)(\d)$/.exec(event.code);
  if (digit) return digit[1]!;
  const letter = /^Key([A-Z])$/.exec(event.code);
  if (letter) return letter[1]!.toLowerCase();
  return event.key.toLowerCase();
}

/** The pressed combination in the stored form, e.g. "ctrl+k", "3", "f2". */
export function pressedHotkey(event: KeyboardEvent): string {
  const modifiers = [
    event.ctrlKey && "ctrl",
    event.altKey && "alt",
    event.shiftKey && "shift",
    event.metaKey && "meta",
  ].filter(Boolean);
  return [...modifiers, keyOf(event)].join("+");
}

/** A hotkey in one canonical order of modifiers, so "shift+ctrl+k" and "ctrl+shift+k" compare equal. */
export function canonicalHotkey(hotkey: string): string {
  const parts = hotkey.toLowerCase().split("+");
  const key = parts.pop() ?? "";
  const order = ["ctrl", "alt", "shift", "meta"];
  return [...order.filter((modifier) => parts.includes(modifier)), key].join("+");
}

/** Whether the key was pressed while typing in a field (then it is text, not a command). */
export function typingIn(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}
