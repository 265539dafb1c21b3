import { type AttemptThrottleSettings, defaultAttemptThrottle } from '@coffer/core';

/**
 * How failed logins slow further attempts down. The counts live in the database
 * (`createAttemptThrottle` in `@coffer/core`), so every server sharing it enforces one limit.
 */
export type LoginThrottleSettings = AttemptThrottleSettings;

/** 5 failures per username, 20 per address, a 30 s lockout doubling up to 15 min, a 15 min window. */
export const defaultLoginThrottle: LoginThrottleSettings = defaultAttemptThrottle;
