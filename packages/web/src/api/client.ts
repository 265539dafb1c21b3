import { createClient } from '@coffer/client';

export { CofferApiError, isCofferApiError } from '@coffer/client';

/** The one API client of the page: same origin, the session cookie, the CSRF header on writes. */
export const client = createClient({ baseUrl: '', clientName: 'web' });
