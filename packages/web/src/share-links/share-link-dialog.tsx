import { type FormEvent, useState } from 'react';
import { client } from '../api/client';
import { fieldIssues } from '../api/errors';
import type { CreatedShareLink } from '../api/types';
import { useAction } from '../app/use-resource';
import { CopyButton } from '../ui/copy-button';
import { Dialog } from '../ui/dialog';
import { ErrorMessage } from '../ui/feedback';
import { Time } from '../ui/time';

const lifetimes = [
  { seconds: 300, label: '5 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
];

/**
 * Makes a share link: which fields, how long, how many views, an optional passphrase. The new
 * link is shown once, with a copy button; Coffer keeps no copy of it.
 */
export function ShareLinkDialog(props: {
  secretId: string;
  secretName: string;
  /** The secret's fields, labelled, in the kind's order. */
  fields: readonly { name: string; label: string }[];
  onCreated: () => void;
  onClose: () => void;
}) {
  const [chosen, setChosen] = useState<ReadonlySet<string>>(() => new Set(props.fields.map((f) => f.name)));
  const [ttlSeconds, setTtlSeconds] = useState(86_400);
  const [maxViews, setMaxViews] = useState('1');
  const [passphrase, setPassphrase] = useState('');
  const [created, setCreated] = useState<CreatedShareLink | undefined>();
  const make = useAction(async () =>
    client.shareLinks.create(props.secretId, {
      fields: props.fields.map((f) => f.name).filter((name) => chosen.has(name)),
      ttlSeconds,
      maxViews: Number(maxViews),
      ...(passphrase === '' ? {} : { passphrase }),
    }),
  );
  const issues = fieldIssues(make.cause);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await make.run();
    if (result.ok) {
      setCreated(result.value);
      setPassphrase('');
      props.onCreated();
    }
  };
  const toggle = (name: string) =>
    setChosen((set) => {
      const next = new Set(set);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  return (
    <Dialog title={`Share link to “${props.secretName}”`} open onClose={props.onClose} wide>
      {created === undefined ? (
        <form className="form" onSubmit={submit}>
          <p className="muted">
            Anyone holding the link can see the chosen fields, without an account, as many times as you allow
            and until it expires. Making it reveals the values, which is recorded in the audit log.
          </p>
          <fieldset className="levels">
            <legend>Fields to share</legend>
            {props.fields.map((f) => (
              <label key={f.name} className="field-inline">
                <input type="checkbox" checked={chosen.has(f.name)} onChange={() => toggle(f.name)} />
                {f.label}
              </label>
            ))}
            {issues.fields === undefined ? null : <p className="field-error">{issues.fields}</p>}
          </fieldset>
          <div className="form-row">
            <div className="field">
              <label className="field-label" htmlFor="share-link-ttl">
                Expires after
              </label>
              <select
                id="share-link-ttl"
                className="input"
                value={ttlSeconds}
                onChange={(e) => setTtlSeconds(Number(e.target.value))}
              >
                {lifetimes.map((l) => (
                  <option key={l.seconds} value={l.seconds}>
                    {l.label}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label className="field-label" htmlFor="share-link-views">
                Views
              </label>
              <input
                id="share-link-views"
                className="input input-small"
                type="number"
                min={1}
                max={100}
                required
                value={maxViews}
                onChange={(e) => setMaxViews(e.target.value)}
                aria-describedby="share-link-views-help"
              />
              <p id="share-link-views-help" className="field-help">
                1 to 100; after the last one the link shows nothing.
              </p>
              {issues.maxViews === undefined ? null : <p className="field-error">{issues.maxViews}</p>}
            </div>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="share-link-passphrase">
              Passphrase (optional)
            </label>
            <input
              id="share-link-passphrase"
              className="input"
              type="password"
              autoComplete="new-password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              aria-describedby="share-link-passphrase-help"
            />
            <p id="share-link-passphrase-help" className="field-help">
              At least 8 characters. The recipient needs it as well as the link: send it another way.
            </p>
            {issues.passphrase === undefined ? null : <p className="field-error">{issues.passphrase}</p>}
          </div>
          <ErrorMessage>{make.error}</ErrorMessage>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" className="button button-primary" disabled={make.busy || chosen.size === 0}>
              {make.busy ? 'Making the link…' : 'Make link'}
            </button>
          </div>
        </form>
      ) : (
        <div className="form">
          <p className="notice notice-success" role="status">
            Link made. It is shown only now: Coffer keeps no copy of it.
          </p>
          <div className="field">
            <label className="field-label" htmlFor="share-link-url">
              Share link
            </label>
            <div className="secret-input">
              <input id="share-link-url" className="input mono" readOnly value={created.url} />
              <CopyButton text={created.url} label="Copy link" targetId="share-link-url" />
            </div>
          </div>
          <p className="muted">
            Opens {created.link.maxViews === 1 ? 'once' : `${created.link.maxViews} times`} until{' '}
            <Time value={created.link.expiresAt} />
            {created.link.passphrase ? ', with the passphrase, which you send another way' : ''}.
          </p>
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
