import { Dialog } from './dialog';
import { ErrorMessage } from './feedback';

/** "Are you sure?" with the consequence spelled out; the action button names the action. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | undefined;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onClose} description={props.message}>
      <ErrorMessage>{props.error}</ErrorMessage>
      <div className="dialog-actions">
        <button
          type="button"
          className="button"
          onClick={props.onClose}
          data-autofocus={props.danger || undefined}
        >
          Cancel
        </button>
        <button
          type="button"
          className={props.danger ? 'button button-danger' : 'button button-primary'}
          disabled={props.busy}
          onClick={props.onConfirm}
          data-autofocus={props.danger ? undefined : true}
        >
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
