import { type FormEvent, useEffect, useRef, useState } from 'react';
import { client } from '../api/client';
import type { User } from '../api/types';
import { useAction } from '../app/use-resource';
import { ErrorMessage } from '../ui/feedback';

/** Username and password; a message says why the user is here (logged out, session ended). */
export function LoginPage(props: { message?: string | undefined; onLogin: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const userRef = useRef<HTMLInputElement>(null);
  const login = useAction(async () => await client.auth.login({ username, password }));

  useEffect(() => {
    document.title = 'Log in · Coffer';
    userRef.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await login.run();
    if (result.ok) props.onLogin(result.value.user);
    else setPassword('');
  };

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
        <ErrorMessage>{login.error}</ErrorMessage>
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
        <button type="submit" className="button button-primary button-block" disabled={login.busy}>
          {login.busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
