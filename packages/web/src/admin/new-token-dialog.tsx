import { type FormEvent, useState } from 'react';
import { client } from '../api/client';
import { fieldIssues } from '../api/errors';
import type { TokenInfo, User } from '../api/types';
import { useAction } from '../app/use-resource';
import { CopyButton } from '../ui/copy-button';
import { Dialog } from '../ui/dialog';
import { ErrorMessage } from '../ui/feedback';
import { FormField } from '../ui/form-field';
import { useFocusFirstInvalid } from '../ui/use-focus-invalid';

/** Creates a token; the token itself is shown once, here, with a copy button. */
export function NewTokenDialog(props: {
  owner: User;
  self: boolean;
  onClose: () => void;
  onCreated: () => void;
}) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read-only' | 'read-write'>('read-only');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<{ token: string; info: TokenInfo } | undefined>();
  const create = useAction(
    async () =>
      await client.tokens.create({
        name: name.trim(),
        scope,
        ...(props.self ? {} : { userId: props.owner.id }),
        ...(expires === '' ? {} : { expiresAt: new Date(`${expires}T23:59:59`).toISOString() }),
      }),
  );
  const issues = fieldIssues(create.cause);
  useFocusFirstInvalid(create.cause);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create.run();
    if (result.ok) {
      setCreated(result.value);
      props.onCreated();
    }
  };
  return (
    <Dialog
      title={created ? 'Token created' : `New token for ${props.owner.username}`}
      open
      onClose={props.onClose}
    >
      {created === undefined ? (
        <form className="form" onSubmit={submit} noValidate>
          <ErrorMessage>{create.error}</ErrorMessage>
          <FormField label="Name" required help="What uses it, e.g. “deploy pipeline”." error={issues.name}>
            {(control) => (
              <input
                {...control}
                className="input"
                name="token-name"
                autoComplete="off"
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            )}
          </FormField>
          <fieldset className="levels">
            <legend>Scope</legend>
            <label className="level-option">
              <input
                type="radio"
                name="scope"
                checked={scope === 'read-only'}
                onChange={() => setScope('read-only')}
              />
              <span>
                <span className="level-title">Read-only</span>
                <span className="level-explanation">Reads and reveals; never changes anything.</span>
              </span>
            </label>
            <label className="level-option">
              <input
                type="radio"
                name="scope"
                checked={scope === 'read-write'}
                onChange={() => setScope('read-write')}
              />
              <span>
                <span className="level-title">Read and write</span>
                <span className="level-explanation">Everything its owner may do.</span>
              </span>
            </label>
          </fieldset>
          <FormField
            label="Expires on"
            help="Leave empty for a token that lasts until revoked."
            error={issues.expiresAt}
          >
            {(control) => (
              <input
                {...control}
                type="date"
                className="input"
                value={expires}
                onChange={(e) => setExpires(e.target.value)}
              />
            )}
          </FormField>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" className="button button-primary" disabled={create.busy}>
              {create.busy ? 'Creating…' : 'Create token'}
            </button>
          </div>
        </form>
      ) : (
        <div className="form">
          <p className="notice notice-warning">
            Copy the token now: this is the only time it is shown. Coffer keeps only a hash of it.
          </p>
          <div className="field">
            <label className="field-label" htmlFor="new-token-value">
              Token “{created.info.name}”
            </label>
            <div className="field-control">
              <input
                id="new-token-value"
                className="input mono"
                readOnly
                value={created.token}
                onFocus={(e) => e.target.select()}
              />
              <CopyButton text={created.token} targetId="new-token-value" />
            </div>
          </div>
          <div className="dialog-actions">
            <button type="button" className="button button-primary" onClick={props.onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
