/** The time source services use, so tests can move time (recovery windows, expiry). */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** The clock's time as an ISO-8601 UTC string, the format of every timestamp column. */
export function isoNow(clock: Clock): string {
  return clock().toISOString();
}
