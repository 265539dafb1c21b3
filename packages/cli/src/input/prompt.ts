import { CliError } from '../errors/cli-error.js';

/** True when questions can be asked: standard input is a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

function requireTerminal(what: string): void {
  if (!canPrompt()) {
    throw new CliError('usage', `${what} needs a terminal to ask on, and standard input is not one`);
  }
}

/**
 * Reads one line from the terminal in raw mode, echoing nothing when `hidden` (passwords) or
 * the characters typed otherwise. Backspace and Ctrl-U edit, Enter ends, Ctrl-C and Ctrl-D
 * (on an empty line) abort. The question goes to standard error, so standard output stays
 * clean for what a script reads.
 */
function readLine(question: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  const stderr = process.stderr;
  return new Promise((resolve, reject) => {
    let value = '';
    let inEscape = false;
    const wasRaw = stdin.isRaw;
    // Echo off before the question shows, so an answer typed at once is never echoed.
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stderr.write(question);
    const finish = (error?: CliError) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stderr.write('\n');
      if (error === undefined) resolve(value);
      else reject(error);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        // Skip terminal escape sequences (arrow keys and the like): ESC [ ... final byte.
        if (inEscape) {
          if (/[A-Za-z~]/.test(char)) inEscape = false;
          continue;
        }
        switch (char) {
          case '\r':
          case '\n':
            finish();
            return;
          case '\u0003':
            finish(new CliError('aborted', 'interrupted'));
            return;
          case '\u0004':
            if (value === '') {
              finish(new CliError('aborted', 'no input (end of file)'));
              return;
            }
            break;
          case '\u007f':
          case '\b':
            if (value.length > 0) {
              value = [...value].slice(0, -1).join('');
              if (!hidden) stderr.write('\b \b');
            }
            break;
          case '\u0015':
            if (!hidden) stderr.write('\b \b'.repeat([...value].length));
            value = '';
            break;
          case '\u001b':
            inEscape = true;
            break;
          default:
            if (char >= ' ') {
              value += char;
              if (!hidden) stderr.write(char);
            }
        }
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** Asks for a value without echoing it (passwords, secret fields). */
export async function promptHidden(question: string): Promise<string> {
  requireTerminal('prompting for a hidden value');
  return readLine(question, true);
}

/** Asks for a value, echoing what is typed; `fallback` is used for an empty answer. */
export async function promptVisible(question: string, fallback?: string): Promise<string> {
  requireTerminal('prompting');
  const answer = await readLine(question, false);
  return answer === '' && fallback !== undefined ? fallback : answer;
}

/**
 * Asks a yes/no question; only `y`/`yes` (any case) is yes. Without a terminal it refuses,
 * naming the flag that answers it in advance.
 */
export async function confirm(question: string, flag = '--yes'): Promise<boolean> {
  if (!canPrompt()) {
    throw new CliError('usage', `this needs confirmation: pass ${flag} (standard input is not a terminal)`);
  }
  const answer = await readLine(`${question} [y/N] `, false);
  return /^y(es)?$/i.test(answer.trim());
}

/** Reads all of standard input as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
