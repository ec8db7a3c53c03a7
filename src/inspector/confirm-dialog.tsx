/**
 * A modal confirmation: a real `<dialog>` (focus kept inside, Escape cancels), so that a
 * destructive action is asked about in the page, where people and tests can see it.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { DialogElementLike } from './dom.js';

/**
 * Props of {@link ConfirmDialog}.
 * @example
 * const props: ConfirmDialogProps = {
 *   open: true,
 *   title: 'Reset?',
 *   confirmLabel: 'Reset',
 *   onConfirm,
 *   onCancel,
 *   children: 'Empties the checkpoint.',
 * };
 */
export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  /** The label of the button that goes ahead. */
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
  /** What will happen. */
  children: ReactNode;
}

/**
 * A modal `<dialog>` with a title, an explanation, Cancel (focused first) and a confirm button;
 * Escape and Cancel call `onCancel`.
 *
 * @example
 * <ConfirmDialog
 *   open={asking}
 *   title="Reset the session?"
 *   confirmLabel="Reset"
 *   onConfirm={reset}
 *   onCancel={() => setAsking(false)}
 * >
 *   ...
 * </ConfirmDialog>
 */
export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  onConfirm,
  onCancel,
  children,
}: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current as DialogElementLike | null;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  return (
    <dialog
      ref={dialog}
      className="dgi-dialog"
      aria-labelledby="dgi-dialog-title"
      onCancel={(event) => {
        event.preventDefault(); // Escape: the parent decides, so the dialog and its state agree
        onCancel();
      }}
    >
      <h2 id="dgi-dialog-title">{title}</h2>
      <div className="dgi-dialog__body">{children}</div>
      <div className="dgi-dialog__buttons">
        <button type="button" autoFocus onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="dgi-danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
