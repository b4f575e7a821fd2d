import { Button, Group, List, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useState, type ReactNode } from "react";

import { ProblemAlert } from "./ProblemAlert";

interface ConfirmDeleteModalProps {
  opened: boolean;
  onClose: () => void;
  onConfirm: () => void;
  /** The thing deleted, e.g. `project "colors"`. */
  subject: string;
  /** Everything that goes with it, one line each ("12 dataset items", "3 model revisions and their files"). */
  consequences: ReactNode[];
  /** When set, the person types it to confirm (for deletions that cannot be undone and take much with them). */
  typeToConfirm?: string;
  pending?: boolean;
  error?: unknown;
  /** Shown under the server's refusal: what the person may do about it (e.g. a "delete anyway" choice). */
  children?: ReactNode;
}

/** Deleting says what goes before it goes; the server's refusal (a 409 with reasons) is shown in place. */
export function ConfirmDeleteModal({
  opened,
  onClose,
  onConfirm,
  subject,
  consequences,
  typeToConfirm,
  pending = false,
  error,
  children,
}: ConfirmDeleteModalProps) {
  const [typed, setTyped] = useState("");
  const confirmed = !typeToConfirm || typed === typeToConfirm;
  const close = () => {
    setTyped("");
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={`Delete ${subject}?`} centered>
      <Stack gap="sm">
        {consequences.length > 0 ? (
          <>
            <Text size="sm">This deletes for good:</Text>
            <List size="sm" data-testid="delete-consequences">
              {consequences.map((line, index) => (
                <List.Item key={index}>{line}</List.Item>
              ))}
            </List>
          </>
        ) : (
          <Text size="sm">This cannot be undone.</Text>
        )}
        {typeToConfirm && (
          <TextInput
            label={`Type ${typeToConfirm} to confirm`}
            value={typed}
            onChange={(event) => setTyped(event.currentTarget.value)}
            autoComplete="off"
          />
        )}
        {error !== undefined && error !== null && <ProblemAlert title="Not deleted" error={error} />}
        {children}
        <Group justify="flex-end" gap="xs">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" onClick={onConfirm} loading={pending} disabled={!confirmed}>
            Delete
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
