import { Alert, Button, Grid, Group, SegmentedControl, Stack, Switch, Text } from "@mantine/core";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

import { asProblem } from "@/api";
import { ProblemAlert } from "@/components";

import {
  imageUrl,
  useProposal,
  useSaveAnnotation,
  type Item,
  type LabelsUsage,
  type Project,
} from "../api/annotations";
import { AnnotationCanvas, closePolygon, fitView, zoomView, type Tool, type View } from "./AnnotationCanvas";
import { annotationBody, draftFromItem, draftFromProposal, sameDraft, type Draft, type Point } from "./draft";
import { LabelPicker, Progress, ProposalPanel, ShapeList } from "./EditorPanels";
import { canonicalHotkey, pressedHotkey, typingIn } from "./hotkeys";
import { useHistory } from "./useHistory";

export interface ItemEditorProps {
  project: Project;
  item: Item;
  previous: string | null;
  next: string | null;
  usage: LabelsUsage | undefined;
  pipelineEnabled: boolean;
  view: View;
  onView: (view: View) => void;
  /** Opens another item (after the draft was saved). */
  onGo: (itemId: string) => void;
  /** Someone else saved the item first: the page says so and reads it again. */
  onConflict: (message: string) => void;
}

const TOOL_KEYS: Record<string, Tool> = { v: "select", b: "box", p: "polygon", h: "pan" };

/** One item's annotation being edited: the draft with undo and redo, saving with the version check. */
export function ItemEditor(props: ItemEditorProps) {
  const { project, item, view, onView } = props;
  const task = project.task_type;
  const labels = project.labels;
  const shapes = !task.endsWith("classification");
  const saved = useMemo(() => draftFromItem(item), [item]);
  const history = useHistory<Draft>(saved);
  const draft = history.present;
  const dirty = !sameDraft(draft, saved);
  const [tool, setTool] = useState<Tool>(shapes ? (task === "detection" ? "box" : "polygon") : "select");
  const [selected, setSelected] = useState<string | null>(null);
  const [currentLabel, setCurrentLabel] = useState<string | null>(labels[0]?.id ?? null);
  const [pendingPolygon, setPendingPolygon] = useState<Point[]>([]);
  const [showPolygonBoxes, setShowPolygonBoxes] = useState(false);
  const [advance, setAdvance] = useState(true);
  const [proposalDismissed, setProposalDismissed] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const save = useSaveAnnotation(project.name, item.id);
  const proposal = useProposal(project.name, item.id, props.pipelineEnabled);
  // A proposal made before the item's last save is behind it: it stays in the panel, no longer on the image.
  const proposalShown = !proposalDismissed && proposal.data?.annotation_version === item.annotation_version;
  const proposalDraft = useMemo(
    () => (proposal.data && proposalShown ? draftFromProposal(task, proposal.data) : null),
    [proposal.data, proposalShown, task],
  );
  const colors = useMemo(() => Object.fromEntries(labels.map((label) => [label.id, label.color])), [labels]);
  const names = useMemo(() => Object.fromEntries(labels.map((label) => [label.id, label.name])), [labels]);

  /** Saves `toSave` when it differs from what is stored; false when the server refused it. */
  async function store(toSave: Draft): Promise<boolean> {
    if (sameDraft(toSave, saved)) return true;
    try {
      await save.mutateAsync({ body: annotationBody(task, toSave), version: item.annotation_version });
      return true;
    } catch (error) {
      const problem = asProblem(error);
      if (problem.status === 409 && problem.code === "annotation_changed") props.onConflict(problem.detail);
      return false;
    }
  }

  async function go(target: string | null, toSave: Draft = draft) {
    if (!(await store(toSave))) return;
    if (target) props.onGo(target);
    else setNotice(`That was the ${props.next ? "first" : "last"} item of this list.`);
  }

  function pick(labelId: string) {
    if (task === "multiclass_classification") {
      const picked = { ...draft, labels: [labelId] };
      history.set(picked);
      if (advance) void go(props.next, picked);
    } else if (task === "multilabel_classification") {
      const labelsNow = draft.labels.includes(labelId)
        ? draft.labels.filter((id) => id !== labelId)
        : [...draft.labels, labelId];
      history.set({ ...draft, labels: labelsNow });
    } else {
      setCurrentLabel(labelId);
      if (selected) relabel(selected, labelId);
    }
  }

  function relabel(key: string, labelId: string) {
    history.set({
      ...draft,
      boxes: draft.boxes.map((box) => (box.key === key ? { ...box, labelId } : box)),
      polygons: draft.polygons.map((polygon) => (polygon.key === key ? { ...polygon, labelId } : polygon)),
    });
  }

  function remove(key: string) {
    history.set({
      ...draft,
      boxes: draft.boxes.filter((box) => box.key !== key),
      polygons: draft.polygons.filter((polygon) => polygon.key !== key),
    });
    if (selected === key) setSelected(null);
  }

  function acceptProposal(andSave: boolean) {
    if (!proposal.data) return;
    const accepted = draftFromProposal(task, proposal.data);
    history.set(accepted);
    setProposalDismissed(true);
    if (andSave) void store(accepted);
  }

  const zoom = (factor: number) =>
    onView(zoomView(view, factor, [view.x + view.width / 2, view.y + view.height / 2], item.width));

  // One listener for the page's keys; it reads the latest render through a ref.
  const keys = useRef<(event: KeyboardEvent) => void>(() => undefined);
  const onKey = (event: KeyboardEvent) => {
    if (typingIn(event) || event.defaultPrevented) return;
    const combo = pressedHotkey(event);
    const label = labels.find((candidate) => candidate.hotkey && canonicalHotkey(candidate.hotkey) === combo);
    const command = event.ctrlKey || event.metaKey;
    const handled = (() => {
      if (label) return pick(label.id), true;
      if (command && event.key.toLowerCase() === "z") return (event.shiftKey ? history.redo() : history.undo()), true;
      if (command && event.key.toLowerCase() === "y") return history.redo(), true;
      if (command && event.key.toLowerCase() === "s") return void store(draft), true;
      if (command || event.altKey) return false;
      if (event.key === "ArrowRight" || event.key === "PageDown") return void go(props.next), true;
      if (event.key === "ArrowLeft" || event.key === "PageUp") return void go(props.previous), true;
      if (event.key === "Escape") return setPendingPolygon([]), setSelected(null), true;
      if (event.key === "Enter" && pendingPolygon.length > 0) {
        closePolygon({ draft, currentLabel, onSet: history.set, onSelect: setSelected, onPendingPolygon: setPendingPolygon }, pendingPolygon);
        return true;
      }
      if (event.key === "Backspace" && pendingPolygon.length > 0) return setPendingPolygon(pendingPolygon.slice(0, -1)), true;
      if ((event.key === "Delete" || event.key === "Backspace") && selected) return remove(selected), true;
      if (event.key === "+" || event.key === "=") return zoom(1 / 1.25), true;
      if (event.key === "-") return zoom(1.25), true;
      if (event.key === "0") return onView(fitView(item.width, item.height)), true;
      const toolKey = TOOL_KEYS[event.key.toLowerCase()];
      if (shapes && toolKey && !(toolKey === "box" && task !== "detection") && !(toolKey === "polygon" && task === "detection")) {
        return setTool(toolKey), setPendingPolygon([]), true;
      }
      return false;
    })();
    if (handled) event.preventDefault();
  };
  useLayoutEffect(() => {
    keys.current = onKey;
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => keys.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  const tools = [
    { value: "select", label: "Select (V)" },
    task === "detection" ? { value: "box", label: "Box (B)" } : { value: "polygon", label: "Polygon (P)" },
    { value: "pan", label: "Pan (H)" },
  ];
  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, md: 8 }}>
        <Stack gap="xs">
          <Group gap="xs" justify="space-between">
            <Group gap="xs">
              <Button size="xs" variant="default" onClick={() => void go(props.previous)} disabled={!props.previous}>
                ← Previous
              </Button>
              <Button size="xs" variant="default" onClick={() => void go(props.next)} disabled={!props.next}>
                Next →
              </Button>
              <Button size="xs" onClick={() => void store(draft)} loading={save.isPending} disabled={!dirty}>
                Save
              </Button>
              <Text size="xs" c={dirty ? "red.9" : "dimmed"} fw={dirty ? 600 : undefined} data-testid="save-state">
                {dirty ? "Unsaved changes" : `Saved · version ${item.annotation_version}`}
              </Text>
            </Group>
            <Group gap={4}>
              <Button size="xs" variant="default" onClick={history.undo} disabled={!history.canUndo} aria-label="Undo (Ctrl+Z)">
                Undo
              </Button>
              <Button size="xs" variant="default" onClick={history.redo} disabled={!history.canRedo} aria-label="Redo (Ctrl+Shift+Z)">
                Redo
              </Button>
              <Button size="xs" variant="default" onClick={() => zoom(1 / 1.25)} aria-label="Zoom in (+)">
                +
              </Button>
              <Button size="xs" variant="default" onClick={() => zoom(1.25)} aria-label="Zoom out (−)">
                −
              </Button>
              <Button size="xs" variant="default" onClick={() => onView(fitView(item.width, item.height))} aria-label="Fit the image (0)">
                Fit
              </Button>
            </Group>
          </Group>
          {shapes && (
            <Group gap="md">
              <SegmentedControl size="xs" value={tool} onChange={(value) => setTool(value as Tool)} data={tools} aria-label="Tool" />
              {task === "instance_segmentation" && (
                <Switch size="xs" label="Show boxes of polygons" checked={showPolygonBoxes}
                  onChange={(event) => setShowPolygonBoxes(event.currentTarget.checked)} />
              )}
            </Group>
          )}
          <AnnotationCanvas
            imageUrl={imageUrl(project.name, item.id)}
            imageName={item.name}
            width={item.width}
            height={item.height}
            task={task}
            draft={draft}
            colors={colors}
            names={names}
            tool={tool}
            currentLabel={currentLabel}
            selected={selected}
            onSelect={setSelected}
            onPreview={history.preview}
            onCommit={history.commit}
            onSet={history.set}
            proposal={shapes ? proposalDraft : null}
            showPolygonBoxes={showPolygonBoxes}
            view={view}
            onView={onView}
            pendingPolygon={pendingPolygon}
            onPendingPolygon={setPendingPolygon}
          />
          <Text size="xs" c="dimmed">
            ←/→ previous/next (saves first) · Ctrl+S save · Ctrl+Z/Ctrl+Shift+Z undo/redo · wheel or +/− zoom, 0 fit,
            drag with Pan (H) or the middle button
            {task === "detection" && " · drag a box to move it, its corners to resize it, Delete removes it"}
            {task === "instance_segmentation" &&
              " · click points, click the first one or Enter to close, Backspace drops the last; drag vertices, Alt+click removes one"}
          </Text>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 4 }}>
        <Stack gap="sm">
          {save.isError && asProblem(save.error).code !== "annotation_changed" && (
            <ProblemAlert title="Not saved" error={save.error} />
          )}
          {notice && (
            <Alert color="blue" variant="light" onClose={() => setNotice(null)} withCloseButton closeButtonLabel="Dismiss">
              {notice}
            </Alert>
          )}
          <LabelPicker task={task} labels={labels} draft={draft} currentLabel={currentLabel} onPick={pick} />
          {task === "multiclass_classification" && (
            <Switch size="xs" label="Go to the next item after picking a label" checked={advance}
              onChange={(event) => setAdvance(event.currentTarget.checked)} />
          )}
          <ShapeList task={task} labels={labels} draft={draft} selected={selected} onSelect={setSelected}
            onRelabel={relabel} onDelete={remove} />
          {props.pipelineEnabled && (
            <ProposalPanel proposal={proposal.data} pending={proposal.isFetching} error={proposal.error}
              shown={proposalShown} onAccept={() => acceptProposal(true)} onEdit={() => acceptProposal(false)}
              onReject={() => setProposalDismissed(true)} />
          )}
          <Progress usage={props.usage} />
        </Stack>
      </Grid.Col>
    </Grid>
  );
}
