import { type FormEvent, useEffect, useRef, useState } from 'react';
import { client } from '../api/client';
import type { SsoInfo, User } from '../api/types';
import { safeNext } from '../app/router';
import { useAction } from '../app/use-resource';
import { ErrorMessage } from '../ui/feedback';

/** What the login page says when single sign-on sent the browser back with `?sso_error=`. */
function ssoErrorMessage(reason: string, provider: string): string {
  switch (reason) {
    case 'denied':
      return `Signing in with ${provider} was cancelled.`;
    case 'expired':
      return 'That sign-in expired, was used already, or was started in another browser. Try again.';
    case 'unavailable':
      return `${provider} cannot be reached right now. Try again later.`;
    case 'disabled':
      return 'Your Coffer account is disabled. Ask an administrator.';
    case 'username_taken':
      return `A Coffer account with your username exists and is not linked to ${provider}. Ask an administrator.`;
    case 'not_provisioned':
      return 'There is no Coffer account for you yet. Ask an administrator to create one.';
    case 'invalid_claims':
      return `${provider} sent no usable username. Ask an administrator to check the single sign-on settings.`;
    default:
      return `Signing in with ${provider} did not work. Try again.`;
  }
}

/**
 * Username and password, and "Sign in with <provider>" when single sign-on is on (password
 * login then perhaps for admins only, or not at all); a message says why the user is here
 * (logged out, session ended, a sign-in that failed).
 */
export function LoginPage(props: { message?: string | undefined; onLogin: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [sso, setSso] = useState<SsoInfo | undefined>();
  const userRef = useRef<HTMLInputElement>(null);
  const ssoRef = useRef<HTMLAnchorElement>(null);
  const login = useAction(async () => await client.auth.login({ username, password }));
  const query = new URLSearchParams(window.location.search);
  const ssoError = query.get('sso_error');
  const next = query.get('next');

  useEffect(() => {
    document.title = 'Log in · Coffer';
    userRef.current?.focus();
    // Without an answer the page is the password form it always was.
    client.auth.sso().then(setSso, () => undefined);
  }, []);
  const passwords = sso?.passwordLogin !== 'none';
  useEffect(() => {
    if (sso?.enabled && sso.passwordLogin === 'none') ssoRef.current?.focus();
  }, [sso]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await login.run();
    if (result.ok) props.onLogin(result.value.user);
    else setPassword('');
  };

  const passwordFields = (
    <>
      <div className="field">
        <label className="field-label" htmlFor="login-username">
          Username
        </label>
        <input
          ref={userRef}
          id="login-username"
          className="input"
          name="username"
          autoComplete="username"
          autoCapitalize="off"
          spellCheck={false}
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </div>
      <div className="field">
        <label className="field-label" htmlFor="login-password">
          Password
        </label>
        <input
          id="login-password"
          className="input"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <button
        type="submit"
        className={sso?.enabled ? 'button button-block' : 'button button-primary button-block'}
        disabled={login.busy}
      >
        {login.busy ? 'Logging in…' : 'Log in'}
      </button>
    </>
  );

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Coffer
        </div>
        <h1 id="login-title">Log in</h1>
        {props.message === undefined ? null : (
          <p className="notice" role="status">
            {props.message}
          </p>
        )}
        <ErrorMessage>
          {login.error ??
            (ssoError === null ? undefined : ssoErrorMessage(ssoError, sso?.name ?? 'single sign-on'))}
        </ErrorMessage>
        {sso?.enabled && sso.startPath !== null ? (
          <>
            <a
              ref={ssoRef}
              className="button button-primary button-block login-sso"
              href={
                next === null ? sso.startPath : `${sso.startPath}?next=${encodeURIComponent(safeNext(next))}`
              }
            >
              Sign in with {sso.name}
            </a>
            {passwords ? (
              <p className="login-divider">
                {sso.passwordLogin === 'admins'
                  ? 'Administrators: log in with a password'
                  : 'or with a password'}
              </p>
            ) : null}
          </>
        ) : null}
        {passwords ? passwordFields : null}
      </form>
    </main>
  );
}
