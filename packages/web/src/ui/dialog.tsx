import { type ReactNode, type RefObject, useEffect, useId, useRef } from 'react';

/**
 * A modal dialog on the native `<dialog>`: the page behind is inert, focus moves into the
 * dialog (its first field, or `initialFocus`) and back to where it was on close, Escape closes.
 * `returnFocus` takes focus on close when there was nowhere to go back to (the dialog opened
 * while focus was on nothing, say after the button that opened it was disabled).
 */
export function Dialog(props: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  /** A sentence under the title, read with it. */
  description?: string;
  wide?: boolean;
  /** A ref (stable, from `useRef`) to focus on close when there was nowhere to go back to. */
  returnFocus?: RefObject<HTMLElement | null>;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const { open, onClose, returnFocus } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      const opener = document.activeElement as HTMLElement | null;
      dialog.showModal();
      const first = dialog.querySelector<HTMLElement>(
        '[data-autofocus], input:not([type=hidden]):not([disabled]), select, textarea, button:not(.dialog-close)',
      );
      first?.focus();
      return () => {
        if (dialog.open) dialog.close();
        if (opener?.isConnected && opener !== document.body) opener.focus();
        else returnFocus?.current?.focus();
      };
    }
    return undefined;
  }, [open, returnFocus]);
  if (!open) return null;
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      aria-describedby={props.description === undefined ? undefined : descriptionId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="dialog-header">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="dialog-close icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {props.description === undefined ? null : (
        <p id={descriptionId} className="muted">
          {props.description}
        </p>
      )}
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}
