import { type FormEvent, useState } from 'react';
import { client } from '../api/client';
import { fieldIssues } from '../api/errors';
import type { User } from '../api/types';
import { useAction } from '../app/use-resource';
import { Dialog } from '../ui/dialog';
import { ErrorMessage } from '../ui/feedback';
import { FormField } from '../ui/form-field';
import { SecretInput } from '../ui/secret-input';
import { useFocusFirstInvalid } from '../ui/use-focus-invalid';

/** Sets a new password for a user; their sessions end. */
export function ResetPasswordDialog(props: { user: User; onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const reset = useAction(async () => client.users.setPassword(props.user.id, { newPassword: password }));
  const issues = fieldIssues(reset.cause);
  useFocusFirstInvalid(reset.cause);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await reset.run();
    if (result.ok) props.onDone();
  };
  return (
    <Dialog
      title={`Reset the password of ${props.user.username}`}
      open
      onClose={props.onClose}
      description="Every session of the user ends; tell them the new password another way."
    >
      <form className="form" onSubmit={submit} noValidate>
        <ErrorMessage>{reset.error}</ErrorMessage>
        <FormField label="New password" required help="12 characters or more." error={issues.newPassword}>
          {(control) => (
            <SecretInput
              control={control}
              name="newPassword"
              label="new password"
              value={password}
              onChange={setPassword}
            />
          )}
        </FormField>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={reset.busy}>
            Set password
          </button>
        </div>
      </form>
    </Dialog>
  );
}
