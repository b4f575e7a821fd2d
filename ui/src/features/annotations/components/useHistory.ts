import { useCallback, useReducer } from "react";

interface HistoryState<Value> {
  past: Value[];
  present: Value;
  future: Value[];
  /** The value before a gesture (a drag) began: the gesture becomes one undo step when it ends. */
  gestureStart: Value | null;
}

type Action<Value> =
  | { type: "set"; value: Value }
  | { type: "preview"; value: Value }
  | { type: "commit" }
  | { type: "undo" }
  | { type: "redo" };

const LIMIT = 200;

function reducer<Value>(state: HistoryState<Value>, action: Action<Value>): HistoryState<Value> {
  switch (action.type) {
    case "set":
      return { past: [...state.past, state.present].slice(-LIMIT), present: action.value, future: [], gestureStart: null };
    case "preview":
      return { ...state, present: action.value, gestureStart: state.gestureStart ?? state.present };
    case "commit":
      if (state.gestureStart === null || state.gestureStart === state.present) return { ...state, gestureStart: null };
      return { past: [...state.past, state.gestureStart].slice(-LIMIT), present: state.present, future: [], gestureStart: null };
    case "undo": {
      const previous = state.past[state.past.length - 1];
      if (previous === undefined) return state;
      return { past: state.past.slice(0, -1), present: previous, future: [state.present, ...state.future], gestureStart: null };
    }
    case "redo": {
      const [next, ...rest] = state.future;
      if (next === undefined) return state;
      return { past: [...state.past, state.present], present: next, future: rest, gestureStart: null };
    }
  }
}

/**
 * A value with undo and redo. `set` is one step; `preview` changes the value during a gesture (a drag) and
 * `commit` makes the whole gesture one step.
 */
export function useHistory<Value>(initial: Value) {
  const [state, dispatch] = useReducer(reducer<Value>, { past: [], present: initial, future: [], gestureStart: null });
  return {
    present: state.present,
    canUndo: state.past.length > 0,
    canRedo: state.future.length > 0,
    set: useCallback((value: Value) => dispatch({ type: "set", value }), []),
    preview: useCallback((value: Value) => dispatch({ type: "preview", value }), []),
    commit: useCallback(() => dispatch({ type: "commit" }), []),
    undo: useCallback(() => dispatch({ type: "undo" }), []),
    redo: useCallback(() => dispatch({ type: "redo" }), []),
  };
}
