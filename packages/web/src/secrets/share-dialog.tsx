import { useState } from 'react';
import { client } from '../api/client';
import type { AccessLevel, Share } from '../api/types';
import { useAction, useResource } from '../app/use-resource';
import { Dialog } from '../ui/dialog';
import { ErrorMessage, Loading } from '../ui/feedback';
import { useToast } from '../ui/toasts';
import { accessLevels, defaultLevel } from './access-levels';
import { type Grantee, GranteeSearch } from './grantee-search';

/**
 * Who holds the secret at which level, with revoke; and a new share: find a user or group, pick a
 * level (each explained in one line), share.
 */
export function ShareDialog(props: {
  secretId: string;
  secretName: string;
  open: boolean;
  onClose: () => void;
}) {
  const toast = useToast();
  const shares = useResource(async () => await client.shares.list(props.secretId), [props.secretId]);
  const list: Share[] = shares.data?.items ?? [];
  const [grantee, setGrantee] = useState<Grantee | undefined>();
  const [level, setLevel] = useState<AccessLevel>('read');
  const grant = useAction(async () => {
    if (grantee === undefined) return;
    await client.shares.grant(props.secretId, { granteeType: grantee.type, granteeId: grantee.id, level });
  });
  const revoke = useAction(async (share: Share) => {
    await client.shares.revoke(props.secretId, share.granteeType, share.granteeId);
  });

  const pick = (g: Grantee) => {
    setGrantee(g);
    setLevel(defaultLevel(g.type));
    // Keyboard users continue at the level they may want to change.
    requestAnimationFrame(() =>
      document.querySelector<HTMLInputElement>('#share-level-fieldset input:checked')?.focus(),
    );
  };
  const submit = async () => {
    const result = await grant.run();
    if (result.ok && grantee !== undefined) {
      toast(`Shared with ${grantee.name} at ${level}`);
      setGrantee(undefined);
      shares.reload();
    }
  };
  const remove = async (share: Share) => {
    const result = await revoke.run(share);
    if (result.ok) {
      toast(`Share with ${share.granteeName} revoked`);
      shares.reload();
    }
  };

  return (
    <Dialog title={`Share “${props.secretName}”`} open={props.open} onClose={props.onClose} wide>
      <section aria-labelledby="current-shares">
        <h3 id="current-shares">Shared with</h3>
        {shares.state === 'error' ? (
          <ErrorMessage onRetry={shares.reload}>{shares.error}</ErrorMessage>
        ) : null}
        {shares.data === undefined && shares.state === 'loading' ? <Loading /> : null}
        {shares.data !== undefined && list.length === 0 ? <p className="muted">Nobody yet.</p> : null}
        <ul className="share-list" aria-label="Current shares">
          {list.map((share) => (
            <li key={`${share.granteeType}:${share.granteeId}`} className="share-row">
              <span>
                <span className="grantee-name">{share.granteeName}</span>
                <span className="muted"> {share.granteeType}</span>
              </span>
              <span className={`badge badge-level-${share.level}`}>{share.level}</span>
              <button
                type="button"
                className="button button-small"
                aria-label={`Revoke the share with ${share.granteeName}`}
                disabled={revoke.busy}
                onClick={() => remove(share)}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
        <ErrorMessage>{revoke.error}</ErrorMessage>
      </section>
      <section aria-labelledby="new-share">
        <h3 id="new-share">Share with someone</h3>
        {grantee === undefined ? (
          <GranteeSearch
            onPick={pick}
            exclude={new Set(list.map((s) => `${s.granteeType}:${s.granteeId}`))}
          />
        ) : (
          <div className="form">
            <p className="chosen-grantee">
              <span>
                Sharing with <strong>{grantee.name}</strong> <span className="muted">({grantee.detail})</span>
              </span>
              <button type="button" className="button button-small" onClick={() => setGrantee(undefined)}>
                Change
              </button>
            </p>
            <fieldset id="share-level-fieldset" className="levels">
              <legend>Level</legend>
              {accessLevels.map((l) => (
                <label key={l.level} className="level-option">
                  <input
                    type="radio"
                    name="share-level"
                    value={l.level}
                    checked={level === l.level}
                    onChange={() => setLevel(l.level)}
                  />
                  <span>
                    <span className="level-title">{l.title}</span>
                    <span className="level-explanation">{l.explanation}</span>
                  </span>
                </label>
              ))}
            </fieldset>
            <ErrorMessage>{grant.error}</ErrorMessage>
            <div className="dialog-actions">
              <button type="button" className="button button-primary" disabled={grant.busy} onClick={submit}>
                {grant.busy ? 'Sharing…' : `Share at ${level}`}
              </button>
            </div>
          </div>
        )}
      </section>
    </Dialog>
  );
}
