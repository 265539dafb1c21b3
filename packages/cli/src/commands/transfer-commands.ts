import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { CofferClient, FieldValue, SecretMetadata } from '@coffer/client';
import { type Command, Option } from 'commander';
import { act, collect, examples, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError, UsageError, unknownKindAsNotFound } from '../errors/cli-error.js';
import { exitCodeOf } from '../errors/exit-codes.js';
import {
  type DataFormat,
  formatOfPath,
  parseData,
  parseDataFormat,
  sniffFormat,
  stringifyData,
} from '../formats/data-formats.js';
import { formatDotenv } from '../formats/dotenv-format.js';
import { envName } from '../formats/env-names.js';
import { fromDocument, type SecretDocumentEntry, toDocument } from '../formats/secret-document.js';
import { readStdin } from '../input/prompt.js';

/** Runs `work` over `items`, `width` at a time, in order of completion. */
async function eachLimited<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** What `POST /secrets` takes for one entry of an import file. */
function createInput(entry: SecretDocumentEntry) {
  return {
    name: entry.name,
    kind: entry.kind,
    values: entry.values,
    ...(entry.description === undefined ? {} : { description: entry.description }),
    ...(entry.labels === undefined ? {} : { labels: entry.labels }),
  };
}

/** Entries in requests of at most 100 secrets and about 1 MiB (the server takes 2 MiB by default). */
function batchesOf(entries: readonly SecretDocumentEntry[]): SecretDocumentEntry[][] {
  const batches: SecretDocumentEntry[][] = [];
  let batch: SecretDocumentEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(createInput(entry)));
    if (batch.length > 0 && (batch.length === 100 || bytes + size > 1024 * 1024)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Writes a file with mode 0600 through a temporary file and a rename: never half a file. */
function writePrivateFile(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new CliError(
      'file',
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

interface ExportOptions {
  format?: string;
  output?: string;
  all?: boolean;
  kind?: string;
  label?: string[];
  prefix: boolean;
  namePrefix?: string;
  valuesOnly?: boolean;
  flat?: boolean;
}

async function secretsToExport(
  client: CofferClient,
  refs: string[],
  options: ExportOptions,
): Promise<string[]> {
  const filtered =
    options.all ||
    options.kind !== undefined ||
    options.label !== undefined ||
    options.namePrefix !== undefined;
  if (refs.length > 0 && filtered)
    throw new UsageError('give secret names or --all/--kind/--label/--name-prefix, not both');
  if (refs.length > 0) return refs;
  if (!filtered) {
    throw new UsageError('name the secrets to export, or pass --all (or --kind, --label, --name-prefix)', {
      usage: 'coffer export [options] [names...]',
      path: 'coffer export',
    });
  }
  const names: string[] = [];
  const filter = {
    ...(options.kind === undefined ? {} : { kind: options.kind }),
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.namePrefix === undefined ? {} : { namePrefix: options.namePrefix }),
  };
  for await (const secret of client.secrets.iterate(filter)) names.push(secret.name);
  return names;
}

async function exportSecrets(ctx: CommandContext, refs: string[], options: ExportOptions) {
  const format: DataFormat =
    options.format !== undefined
      ? parseDataFormat(options.format)
      : ((options.output === undefined ? undefined : formatOfPath(options.output)) ?? 'dotenv');
  if (format === 'dotenv' && options.valuesOnly) throw new UsageError('--values-only is for json and yaml');
  const client = await ctx.client();
  const names = await secretsToExport(client, refs, options);
  const entries = new Map<string, SecretDocumentEntry>();
  const bar = ctx.progress('exporting', names.length);
  try {
    await eachLimited(names, 4, async (ref) => {
      const [secret, values] = await Promise.all([
        client.secrets.get(ref),
        client.secrets.values(ref, { reveal: true }),
      ]);
      entries.set(ref, {
        name: secret.name,
        kind: secret.kind,
        ...(secret.description === '' ? {} : { description: secret.description }),
        ...(Object.keys(secret.labels).length === 0 ? {} : { labels: secret.labels }),
        values: values.values,
      });
      bar.tick();
    });
  } finally {
    bar.stop();
  }
  const ordered = names.map((n) => entries.get(n)!);

  let text: string;
  if (format === 'dotenv' || options.flat) {
    const flat: Record<string, FieldValue> = {};
    const origin = new Map<string, string>();
    for (const entry of ordered) {
      for (const [field, value] of Object.entries(entry.values)) {
        const key = envName(entry.name, field, options.prefix);
        const from = `${entry.name}.${field}`;
        if (origin.has(key)) {
          throw new CliError(
            'format',
            `${from} and ${origin.get(key)} both become ${key}${options.prefix ? '' : '; drop --no-prefix'}`,
          );
        }
        origin.set(key, from);
        flat[key] = format === 'dotenv' ? String(value) : value;
      }
    }
    text = format === 'dotenv' ? formatDotenv(flat) : await stringifyData(flat, format);
  } else {
    text = await stringifyData(toDocument(ordered, { valuesOnly: options.valuesOnly === true }), format);
  }

  if (options.output === undefined) {
    process.stdout.write(text);
    return;
  }
  writePrivateFile(options.output, text);
  if (ctx.json)
    ctx.out(JSON.stringify({ file: options.output, format, secrets: ordered.map((e) => e.name) }));
  else ctx.note(`Exported ${ordered.length} secret(s) to ${options.output} (${format}, mode 0600).`);
}

interface ImportOptions {
  format?: string;
  name?: string;
  kind: string;
  onExisting: 'fail' | 'skip' | 'update';
  dryRun?: boolean;
}

interface ImportFailure {
  name: string;
  code: string;
  message: string;
}

async function importSecrets(ctx: CommandContext, [file]: string[], options: ImportOptions) {
  let text: string;
  if (file === '-') text = await readStdin();
  else {
    const { readFileSync } = await import('node:fs');
    try {
      text = readFileSync(file!, 'utf8');
    } catch (err) {
      throw new CliError(
        'file',
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const source = file === '-' ? 'standard input' : file!;
  const format =
    options.format !== undefined
      ? parseDataFormat(options.format)
      : ((file === '-' ? undefined : formatOfPath(file!)) ?? sniffFormat(text));
  const data = await parseData(text, format, source);
  let entries: SecretDocumentEntry[];
  if (format === 'dotenv') {
    if (options.name === undefined) {
      throw new UsageError('a dotenv file is one secret: name it with --name', {
        usage: 'coffer import <file> --name <secret>',
        path: 'coffer import',
      });
    }
    entries = [{ name: options.name, kind: options.kind, values: data as Record<string, string> }];
  } else {
    if (options.name !== undefined)
      throw new UsageError('--name is for dotenv files; JSON and YAML files name their secrets');
    entries = fromDocument(data, options.kind);
  }
  if (options.dryRun) {
    const plan = entries.map((e) => ({ name: e.name, kind: e.kind, fields: Object.keys(e.values) }));
    ctx.emit(plan, (p) =>
      p.map((e) => `${e.name} (${e.kind}): ${e.fields.join(', ') || 'no fields'}`).join('\n'),
    );
    return;
  }

  const client = await ctx.client();
  const created: string[] = [];
  const updated: string[] = [];
  const skipped: string[] = [];
  const failed: ImportFailure[] = [];
  const bar = ctx.progress('importing', entries.length);
  const fail = (name: string, err: unknown) => {
    const e = err as { code?: string; message?: string; issues?: { path: string; message: string }[] };
    const issues = (e.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('; ');
    failed.push({ name, code: e.code ?? 'internal', message: issues === '' ? String(e.message) : issues });
  };
  /** The secret exists: skip it, fail, or update it, as --on-existing says. */
  const onExisting = async (entry: SecretDocumentEntry, err: unknown) => {
    if (options.onExisting === 'fail') throw err;
    if (options.onExisting === 'skip') {
      skipped.push(entry.name);
      return;
    }
    const existing: SecretMetadata = await client.secrets.get(entry.name);
    if (existing.kind !== entry.kind && format !== 'dotenv') {
      throw new CliError('already_exists', `exists with kind ${existing.kind}, not ${entry.kind}`);
    }
    await client.secrets.updateValues(entry.name, { values: entry.values });
    if (entry.description !== undefined || entry.labels !== undefined) {
      await client.secrets.updateMetadata(entry.name, {
        ...(entry.description === undefined ? {} : { description: entry.description }),
        ...(entry.labels === undefined ? {} : { labels: entry.labels }),
      });
    }
    updated.push(entry.name);
  };
  const importOne = async (entry: SecretDocumentEntry) => {
    try {
      try {
        await client.secrets.create(createInput(entry));
        created.push(entry.name);
      } catch (err) {
        if ((err as { code?: string }).code !== 'already_exists') throw unknownKindAsNotFound(err);
        await onExisting(entry, err);
      }
    } catch (err) {
      fail(entry.name, err);
    } finally {
      bar.tick();
    }
  };
  /**
   * Up to 100 secrets per request (POST /secrets/batch), whose creates share commits on the
   * server. A batch the server refuses as a whole (an entry it cannot parse, a body over its
   * limit, a server without the route) is sent again one secret per request, so each entry
   * gets its own answer.
   */
  const importBatch = async (batch: readonly SecretDocumentEntry[]) => {
    let results: Awaited<ReturnType<typeof client.secrets.createMany>>;
    try {
      results = await client.secrets.createMany(batch.map(createInput));
    } catch {
      await eachLimited(batch, 4, importOne);
      return;
    }
    await eachLimited([...results.entries()], 4, async ([i, result]) => {
      const entry = batch[i]!;
      try {
        if (result.created) created.push(entry.name);
        else if (result.error.code === 'already_exists') await onExisting(entry, result.error);
        else throw unknownKindAsNotFound(result.error);
      } catch (err) {
        fail(entry.name, err);
      } finally {
        bar.tick();
      }
    });
  };
  try {
    await eachLimited(batchesOf(entries), 4, importBatch);
  } finally {
    bar.stop();
  }
  const result = { created, updated, skipped, failed };
  ctx.emit(
    result,
    (r) =>
      `Imported from ${source}: ${r.created.length} created, ${r.updated.length} updated, ${r.skipped.length} skipped, ${r.failed.length} failed.`,
  );
  if (failed.length > 0) {
    for (const f of failed) ctx.note(`coffer: ${f.code}: ${f.name}: ${f.message}`);
    ctx.exitCode = exitCodeOf(failed[0]!.code);
  }
}

/** `coffer export` and `coffer import`. */
export function registerTransferCommands(program: Command): void {
  const exportCommand = withCommonOptions(
    program
      .command('export')
      .description(
        'write secrets with their revealed values as dotenv, JSON or YAML (each reveal is audited)',
      )
      .argument('[names...]', 'the secrets (names or ids)')
      .addOption(
        new Option('--format <format>', 'dotenv, json or yaml (default: from --output, else dotenv)').choices(
          ['dotenv', 'env', 'json', 'yaml', 'yml'],
        ),
      )
      .option('-o, --output <file>', 'write to a file (mode 0600) instead of standard output')
      .option('--all', 'every secret you can read')
      .option('-k, --kind <kind>', 'every secret of this kind')
      .option('-l, --label <name[=value]>', 'every secret with this label (repeatable)', collect)
      .option('--name-prefix <prefix>', 'every secret whose name starts with this')
      .option('--no-prefix', 'dotenv and --flat: name variables after the fields alone (HOST, not MAIL_HOST)')
      .option(
        '--values-only',
        'json/yaml: only the values of each secret, without kind, description and labels',
      )
      .option('--flat', 'json/yaml: one flat object of NAME_FIELD variables, like dotenv'),
  );
  examples(exportCommand, [
    'coffer export mail db > .env',
    'coffer export mail --no-prefix --format dotenv',
    'coffer export --all --format yaml -o backup.yaml',
    'coffer export --label env=prod --format json --values-only',
  ]);
  act<ExportOptions>(exportCommand, exportSecrets);

  const importCommand = withCommonOptions(
    program
      .command('import')
      .description('create (or update) secrets from a dotenv, JSON or YAML file, with a progress bar')
      .argument('<file>', 'the file (- for standard input)')
      .addOption(
        new Option(
          '--format <format>',
          'dotenv, json or yaml (default: from the file name or content)',
        ).choices(['dotenv', 'env', 'json', 'yaml', 'yml']),
      )
      .option('--name <secret>', 'dotenv: the secret to create from the file (its variables become fields)')
      .option('-k, --kind <kind>', 'the kind of secrets the file does not give one for', 'generic')
      .addOption(
        new Option('--on-existing <action>', 'when a secret exists: fail, skip, or update its values')
          .choices(['fail', 'skip', 'update'])
          .default('fail'),
      )
      .option('--dry-run', 'show what would be imported, change nothing'),
  );
  examples(importCommand, [
    'coffer import .env --name app',
    'coffer import backup.yaml --on-existing update',
    'coffer export --all --format json | coffer import - --addr https://new.example.com',
  ]);
  act<ImportOptions>(importCommand, importSecrets);
}
