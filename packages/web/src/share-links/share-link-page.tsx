import { type FormEvent, type RefObject, useEffect, useRef, useState } from 'react';
import { client, isCofferApiError } from '../api/client';
import { describeError } from '../api/errors';
import type { FieldValue, OpenedShareLink, ShareLinkPreview } from '../api/types';
import { CopyButton } from '../ui/copy-button';
import { Loading } from '../ui/feedback';
import { Time } from '../ui/time';

type View =
  | { state: 'loading' }
  | { state: 'ready'; preview: ShareLinkPreview }
  | { state: 'opened'; opened: OpenedShareLink }
  | { state: 'closed'; title: string; message: string };

/** The link key from `#...`; a fragment mangled past decoding is sent as it is (and refused). */
function keyOfFragment(hash: string): string {
  const raw = hash.slice(1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** What a recipient is told when a link does not open, by the server's code. */
function closedView(err: unknown): View {
  const message = describeError(err);
  const code = isCofferApiError(err) ? err.code : undefined;
  const titles: Record<string, string> = {
    share_link_used: 'This link was already used',
    share_link_expired: 'This link has expired',
    share_link_revoked: 'This link was revoked',
    share_link_wrong_key: 'This link is incomplete',
    not_found: 'There is no such link',
    rate_limited: 'Too many attempts',
  };
  return {
    state: 'closed',
    title: (code !== undefined && titles[code]) || 'The link could not be opened',
    message:
      code === 'not_found'
        ? 'Check that you copied the whole link, or ask whoever sent it for a new one.'
        : message,
  };
}

/**
 * The page a share link leads to, for someone without an account: `/s/<id>#<key>`. The key
 * is read from the fragment, which browsers never send to a server; this page sends it only in
 * the body of its two requests (preview, then open on a click, so a link previewer that loads
 * the page cannot use up a one-time link). The values are shown once, with copy buttons.
 */
export function ShareLinkPage({ id }: { id: string }) {
  const [key] = useState(() => keyOfFragment(window.location.hash));
  const [view, setView] = useState<View>({ state: 'loading' });
  const [passphrase, setPassphrase] = useState('');
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const passphraseRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Shared secret · Coffer';
    let current = true;
    client.shareLinks.preview({ id, key }).then(
      (preview) => current && setView({ state: 'ready', preview }),
      (err: unknown) => current && setView(closedView(err)),
    );
    return () => {
      current = false;
    };
  }, [id, key]);

  // Every change of what the page says is announced: focus moves to its heading.
  useEffect(() => {
    if (view.state !== 'loading') headingRef.current?.focus();
  }, [view.state]);

  const open = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(undefined);
    try {
      const opened = await client.shareLinks.open(
        { id, key },
        view.state === 'ready' && view.preview.passphraseRequired ? { passphrase } : {},
      );
      setView({ state: 'opened', opened });
    } catch (err) {
      if (isCofferApiError(err, 'share_link_wrong_passphrase')) {
        const left = err.details?.attemptsLeft;
        setFailure(
          `${describeError(err)}.${typeof left === 'number' ? ` ${left} more ${left === 1 ? 'try' : 'tries'} before the link is revoked.` : ''}`,
        );
        setPassphrase('');
        passphraseRef.current?.focus();
      } else if (isCofferApiError(err, 'rate_limited')) {
        setFailure(`${describeError(err)}.`);
      } else {
        setView(closedView(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <div className="login-card share-link-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Coffer
        </div>
        {view.state === 'loading' ? <Loading label="Looking at the link…" /> : null}
        {view.state === 'closed' ? (
          <>
            <h1 ref={headingRef} tabIndex={-1}>
              {view.title}
            </h1>
            <p className="notice notice-danger" role="alert">
              {view.message}
            </p>
          </>
        ) : null}
        {view.state === 'ready' ? (
          <form className="form" onSubmit={open} aria-labelledby="share-link-title">
            <h1 id="share-link-title" ref={headingRef} tabIndex={-1}>
              {view.preview.createdByName} shared a secret with you
            </h1>
            <p>
              <strong>{view.preview.fields.join(', ')}</strong> of “{view.preview.secretName}”. The link works
              until <Time value={view.preview.expiresAt} /> and opens{' '}
              {view.preview.viewsLeft === 1 ? 'one more time' : `${view.preview.viewsLeft} more times`}.
            </p>
            <p className="muted">
              Showing it counts as a view
              {view.preview.viewsLeft === 1 ? ': afterwards this link shows nothing any more' : ''}. Have
              somewhere safe to put it ready.
            </p>
            {view.preview.passphraseRequired ? (
              <div className="field">
                <label className="field-label" htmlFor="share-link-passphrase">
                  Passphrase
                </label>
                <input
                  ref={passphraseRef}
                  id="share-link-passphrase"
                  className="input"
                  type="password"
                  autoComplete="off"
                  required
                  value={passphrase}
                  onChange={(e) => setPassphrase(e.target.value)}
                />
                <p className="field-help">Whoever sent the link gives you this separately.</p>
              </div>
            ) : null}
            {failure === undefined ? null : (
              <p className="error-message" role="alert">
                {failure}
              </p>
            )}
            <button type="submit" className="button button-primary button-block" disabled={busy}>
              {busy ? 'Opening…' : 'Show the secret'}
            </button>
          </form>
        ) : null}
        {view.state === 'opened' ? <Opened opened={view.opened} headingRef={headingRef} /> : null}
      </div>
    </main>
  );
}

function Opened({
  opened,
  headingRef,
}: {
  opened: OpenedShareLink;
  headingRef: RefObject<HTMLHeadingElement | null>;
}) {
  return (
    <>
      <h1 ref={headingRef} tabIndex={-1}>
        “{opened.secretName}” from {opened.createdByName}
      </h1>
      <p className={opened.viewsLeft === 0 ? 'notice notice-warning' : 'notice'} role="status">
        {opened.viewsLeft === 0
          ? 'This was the last view: the link shows nothing any more. Copy what you need now.'
          : `The link opens ${opened.viewsLeft} more ${opened.viewsLeft === 1 ? 'time' : 'times'}.`}
      </p>
      <dl className="values">
        {Object.entries(opened.values).map(([name, value]) => (
          <SharedValue key={name} name={name} value={value} />
        ))}
      </dl>
    </>
  );
}

function SharedValue({ name, value }: { name: string; value: FieldValue }) {
  const text = String(value);
  const id = `shared-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const multiline = text.includes('\n');
  return (
    <div className="value-row" data-field={name}>
      <dt>{name}</dt>
      <dd>
        {multiline ? (
          <textarea
            id={id}
            className="input value-multiline"
            readOnly
            rows={4}
            value={text}
            aria-label={name}
          />
        ) : (
          <input id={id} className="input mono" readOnly value={text} aria-label={name} />
        )}
        <CopyButton text={text} label={`Copy ${name}`} targetId={id} />
      </dd>
    </div>
  );
}
