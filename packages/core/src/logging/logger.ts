import { pino } from 'pino';

/** Coffer's logger: pino, with redaction of every path that could ever hold a secret. */
export type Logger = pino.Logger;

/**
 * Paths pino blanks out wherever they appear. This is a second line of defence: code never
 * logs values, passwords or tokens on purpose; redaction catches the accident.
 */
export const redactPaths = [
  'values',
  '*.values',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'key',
  '*.key',
  'passphrase',
  '*.passphrase',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
] as const;

export interface LoggerOptions {
  level?: pino.LevelWithSilentOrString;
  /** Where lines go; defaults to stdout. Tests pass a stream to scan what was written. */
  destination?: pino.DestinationStream;
}

/**
 * A logger with Coffer's redaction rules.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: [...redactPaths], censor: '[redacted]' },
      base: { service: 'coffer' },
      serializers: { err: errorSerializer },
    },
    options.destination,
  );
}

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Serialize errors by name, code and message only: driver errors can carry SQL with bound
 * parameters (mysql2 sets `err.sql`), which must never reach a log line.
 */
function errorSerializer(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; cause?: unknown };
  const out: Record<string, unknown> = { type: e.name, message: e.message };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  if (e.stack !== undefined) out.stack = e.stack;
  if (e.cause instanceof Error) out.cause = errorSerializer(e.cause);
  return out;
}
