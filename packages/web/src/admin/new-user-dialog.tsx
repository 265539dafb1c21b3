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

/** A new user (with a password) or service account (tokens only). */
export function NewUserDialog(props: { onClose: () => void; onCreated: (user: User) => void }) {
  const [type, setType] = useState<'user' | 'service_account'>('user');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'member' | 'admin'>('member');
  const [password, setPassword] = useState('');
  const create = useAction(
    async () =>
      await client.users.create({
        username: username.trim(),
        type,
        role,
        ...(displayName.trim() === '' ? {} : { displayName: displayName.trim() }),
        ...(email.trim() === '' ? {} : { email: email.trim() }),
        ...(type === 'user' && password !== '' ? { password } : {}),
      }),
  );
  const issues = fieldIssues(create.cause);
  useFocusFirstInvalid(create.cause);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create.run();
    if (result.ok) props.onCreated(result.value);
  };
  return (
    <Dialog title="New user" open onClose={props.onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorMessage>{create.error}</ErrorMessage>
        <fieldset className="levels">
          <legend>Type</legend>
          <label className="level-option">
            <input type="radio" name="user-type" checked={type === 'user'} onChange={() => setType('user')} />
            <span>
              <span className="level-title">Person</span>
              <span className="level-explanation">Logs in with a password.</span>
            </span>
          </label>
          <label className="level-option">
            <input
              type="radio"
              name="user-type"
              checked={type === 'service_account'}
              onChange={() => setType('service_account')}
            />
            <span>
              <span className="level-title">Service account</span>
              <span className="level-explanation">A bot: no password, authenticates with API tokens.</span>
            </span>
          </label>
        </fieldset>
        <FormField label="Username" required error={issues.username}>
          {(control) => (
            <input
              {...control}
              className="input"
              name="username"
              autoComplete="off"
              autoCapitalize="off"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </FormField>
        <FormField label="Display name" error={issues.displayName}>
          {(control) => (
            <input
              {...control}
              className="input"
              name="displayName"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          )}
        </FormField>
        <FormField label="Email" error={issues.email}>
          {(control) => (
            <input
              {...control}
              type="email"
              className="input"
              name="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </FormField>
        <FormField label="Role" error={issues.role}>
          {(control) => (
            <select
              {...control}
              className="input"
              value={role}
              onChange={(e) => setRole(e.target.value as 'member' | 'admin')}
            >
              <option value="member">Member</option>
              <option value="admin">Administrator</option>
            </select>
          )}
        </FormField>
        {type === 'user' ? (
          <FormField label="Password" required help="12 characters or more." error={issues.password}>
            {(control) => (
              <SecretInput
                control={control}
                name="password"
                label="password"
                value={password}
                onChange={setPassword}
              />
            )}
          </FormField>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create user'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
