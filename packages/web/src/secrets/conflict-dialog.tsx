import type { RefObject } from 'react';
import { Dialog } from '../ui/dialog';

/**
 * Someone else saved the secret after this form was loaded: reload (see their change, drop these
 * edits) or overwrite (save these edits over theirs).
 */
export function ConflictDialog(props: {
  open: boolean;
  editedVersion: number;
  currentVersion: number | undefined;
  busy: boolean;
  onReload: () => void;
  onOverwrite: () => void;
  onClose: () => void;
  /** Focused when the dialog closes (it opens while Save is disabled, so focus was on nothing). */
  returnFocus?: RefObject<HTMLElement | null>;
}) {
  const now = props.currentVersion === undefined ? 'a newer version' : `version ${props.currentVersion}`;
  return (
    <Dialog
      title="Someone else changed this secret"
      open={props.open}
      onClose={props.onClose}
      returnFocus={props.returnFocus}
      description={`You edited version ${props.editedVersion}, but it is now at ${now}. Reload to see their change (your edits are dropped), or overwrite their change with your edits.`}
    >
      <div className="dialog-actions">
        <button type="button" className="button" onClick={props.onClose}>
          Keep editing
        </button>
        <button type="button" className="button" onClick={props.onReload} data-autofocus>
          Reload
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={props.busy}
          onClick={props.onOverwrite}
        >
          {props.busy ? 'Saving…' : 'Overwrite'}
        </button>
      </div>
    </Dialog>
  );
}
