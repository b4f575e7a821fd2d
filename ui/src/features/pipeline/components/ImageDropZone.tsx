import { Button, Group, Paper, Text } from "@mantine/core";
import { useRef, useState, type DragEvent } from "react";

const ACCEPTED = "image/jpeg,image/png,image/bmp,image/tiff,image/webp";

/** Drop images here, or choose them with the button (the keyboard's way in). */
export function ImageDropZone({ onFiles, disabled }: { onFiles: (files: File[]) => void; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const accept = (list: FileList | null) => {
    const files = Array.from(list ?? []).filter((file) => file.type.startsWith("image/"));
    if (files.length > 0 && !disabled) onFiles(files);
  };
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    accept(event.dataTransfer.files);
  };
  return (
    <Paper
      withBorder
      p="lg"
      data-testid="drop-zone"
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      style={{ borderStyle: "dashed", background: over ? "var(--mantine-color-blue-light)" : undefined }}
    >
      <Group justify="space-between">
        <Text size="sm">{disabled ? "Enable the pipeline to predict." : "Drop images here (JPEG, PNG, BMP, TIFF, WebP)."}</Text>
        <Button variant="default" onClick={() => input.current?.click()} disabled={disabled}>
          Choose images
        </Button>
      </Group>
      <input
        ref={input}
        type="file"
        accept={ACCEPTED}
        multiple
        hidden
        aria-label="Images to predict"
        data-testid="image-input"
        onChange={(event) => {
          accept(event.currentTarget.files);
          event.currentTarget.value = "";
        }}
      />
    </Paper>
  );
}
