import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef } from 'react';
import type { User } from '../api/types';

export interface Session {
  user: User;
  /** The session ended (a 401): back to the login page with this message. */
  expire(message?: string): void;
  /** Logged out on purpose. */
  signOut(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** The logged-in user, for every page below the login. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside a SessionProvider');
  return session;
}

/** The session if there is one (components also used on the login page). */
export function useOptionalSession(): Session | undefined {
  return useContext(SessionContext);
}

export function SessionProvider(props: {
  user: User;
  onEnd: (message: string | undefined) => void;
  children: ReactNode;
}) {
  const { user, onEnd } = props;
  // Several requests may fail with 401 at once; the first one ends the session.
  const ended = useRef(false);
  const expire = useCallback(
    (message?: string) => {
      if (ended.current) return;
      ended.current = true;
      onEnd(message ?? 'Your session has ended. Log in again to continue.');
    },
    [onEnd],
  );
  const signOut = useCallback(() => {
    ended.current = true;
    onEnd(undefined);
  }, [onEnd]);
  const value = useMemo(() => ({ user, expire, signOut }), [user, expire, signOut]);
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}
