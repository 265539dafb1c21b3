import type { FieldValue, Kind, SecretMetadata, SecretValues } from '@coffer/client';
import type { Command } from 'commander';
import { act, collect, examples, group, positiveInt, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError, UsageError, unknownKindAsNotFound } from '../errors/cli-error.js';
import { exitCodes } from '../errors/exit-codes.js';
import { confirm, promptHidden, promptVisible } from '../input/prompt.js';
import { fillAskedValues, parseAssignments, parseLabels, readValuesFile } from '../input/values.js';
import { cellText, formatFields, formatTable } from '../output/table.js';
import { findUser } from './principals.js';
import {
  expiresOption,
  registerSecretDueCommand,
  rotateEveryOption,
  type Setting,
} from './reminder-commands.js';

const mask = '••••••••';

interface ValueInputOptions {
  fromFile?: string;
  interactive?: boolean;
}

/**
 * The values a command line gives: `--from-file` first, then `field=value` arguments over it,
 * then `-` fields asked (or read from standard input), then with `--interactive` every field
 * of the kind not given yet.
 */
async function collectValues(
  assignments: readonly string[],
  options: ValueInputOptions,
  kind: () => Promise<Kind>,
  mode: 'create' | 'update',
): Promise<Record<string, FieldValue>> {
  const parsed = parseAssignments(assignments);
  const fromFile = options.fromFile === undefined ? {} : await readValuesFile(options.fromFile);
  const values = { ...fromFile, ...(await fillAskedValues(parsed)) };
  if (options.interactive) Object.assign(values, await askFields(await kind(), values, mode));
  return values;
}

/** Asks for each field of the kind not given yet: secret fields without echo, the rest echoed. */
async function askFields(
  kind: Kind,
  given: Record<string, FieldValue>,
  mode: 'create' | 'update',
): Promise<Record<string, FieldValue>> {
  const answers: Record<string, FieldValue> = {};
  const keep = mode === 'update' ? ' (empty: keep)' : '';
  if (kind.freeForm) {
    for (;;) {
      const field = await promptVisible('Field name (empty to finish): ');
      if (field === '') break;
      answers[field] = await promptHidden(`${field}: `);
    }
    return answers;
  }
  for (const field of kind.fields) {
    if (field.name in given) continue;
    const hints: string[] = [];
    if (field.options !== undefined) hints.push(field.options.join('|'));
    if (field.default !== undefined && mode === 'create') hints.push(`default ${String(field.default)}`);
    if (!field.required && mode === 'create') hints.push('optional');
    const question = `${field.label}${hints.length > 0 ? ` [${hints.join(', ')}]` : ''}${keep}: `;
    const answer = field.secret ? await promptHidden(question) : await promptVisible(question);
    if (answer !== '') answers[field.name] = answer;
  }
  return answers;
}

function metadataFields(s: SecretMetadata): [string, unknown][] {
  return [
    ['name', s.name],
    ['id', s.id],
    ['kind', s.kind],
    ['description', s.description],
    ['labels', s.labels],
    ['version', s.currentVersion],
    ['backend', s.backend],
    ['owner', s.ownerId],
    ['access', s.access.level === null ? '-' : `${s.access.level} (${s.access.basis})`],
    ['created', `${s.createdAt} by ${s.createdBy}`],
    ['updated', `${s.updatedAt} by ${s.updatedBy}`],
    ...(s.expiresAt === null ? [] : ([['expires', s.expiresAt]] as [string, unknown][])),
    ...(s.rotateEveryDays === null
      ? []
      : ([['rotation', `every ${s.rotateEveryDays} days, next due ${s.rotationDueAt}`]] as [
          string,
          unknown,
        ][])),
    ...(s.deletedAt === null
      ? []
      : ([
          ['deleted', s.deletedAt],
          ['purge after', s.purgeAfter],
        ] as [string, unknown][])),
  ];
}

function valuesTable(values: SecretValues): string {
  const rows = Object.entries(values.values);
  if (rows.length === 0) return '(no values)';
  return formatTable(rows, [
    { header: 'field', cell: ([k]) => k },
    { header: 'value', cell: ([k, v]) => (values.maskedFields.includes(k) ? mask : v) },
  ]);
}

const secretColumns = [
  { header: 'name', cell: (s: SecretMetadata) => s.name },
  { header: 'kind', cell: (s: SecretMetadata) => s.kind },
  { header: 'version', cell: (s: SecretMetadata) => s.currentVersion },
  { header: 'labels', cell: (s: SecretMetadata) => s.labels },
  { header: 'access', cell: (s: SecretMetadata) => s.access.level },
  { header: 'updated', cell: (s: SecretMetadata) => s.updatedAt },
];

const trashColumns = [
  { header: 'id', cell: (s: SecretMetadata) => s.id },
  { header: 'name', cell: (s: SecretMetadata) => s.name },
  { header: 'kind', cell: (s: SecretMetadata) => s.kind },
  { header: 'deleted', cell: (s: SecretMetadata) => s.deletedAt },
  { header: 'purge after', cell: (s: SecretMetadata) => s.purgeAfter },
];

/** Writes one value raw: exactly its bytes to a pipe, with a line break on a terminal. */
function writeRaw(ctx: CommandContext, value: FieldValue): void {
  if (ctx.json) ctx.out(JSON.stringify(value));
  else process.stdout.write(process.stdout.isTTY ? `${String(value)}\n` : String(value));
}

interface CreateOptions extends ValueInputOptions {
  kind: string;
  description?: string;
  label?: string[];
  owner?: string;
  expires?: Setting<string>;
  rotateEvery?: Setting<number>;
}

async function create(ctx: CommandContext, [name, ...assignments]: string[], options: CreateOptions) {
  const client = await ctx.client();
  const values = await collectValues(assignments, options, () => client.kinds.get(options.kind), 'create');
  const created = await client.secrets
    .create({
      name: name!,
      kind: options.kind,
      values,
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.label === undefined ? {} : { labels: parseLabels(options.label) }),
      ...(options.owner === undefined ? {} : { ownerId: (await findUser(client, options.owner)).id }),
      ...(options.expires === undefined ? {} : { expiresAt: options.expires.value }),
      ...(options.rotateEvery === undefined ? {} : { rotateEveryDays: options.rotateEvery.value }),
    })
    .catch((err: unknown) => {
      throw unknownKindAsNotFound(err);
    });
  ctx.emit(created, (s) => `Created ${s.name} (${s.kind}), version ${s.currentVersion}.`);
}

interface GetOptions {
  reveal?: boolean;
  field?: string;
  version?: number;
}

async function get(ctx: CommandContext, [ref]: string[], options: GetOptions) {
  const client = await ctx.client();
  const reveal = options.reveal === true || options.field !== undefined;
  const versionOption = options.version === undefined ? {} : { version: options.version };
  if (options.field !== undefined) {
    const values = await client.secrets.values(ref!, { reveal, ...versionOption });
    if (!Object.hasOwn(values.values, options.field)) {
      const known = Object.keys(values.values).join(', ') || 'none';
      throw new CliError(
        'not_found',
        `${ref} has no field ${JSON.stringify(options.field)} (fields: ${known})`,
      );
    }
    writeRaw(ctx, values.values[options.field]!);
    return;
  }
  const [secret, values] = await Promise.all([
    client.secrets.get(ref!),
    client.secrets.values(ref!, { reveal, ...versionOption }),
  ]);
  const result = {
    secret,
    version: values.version,
    values: values.values,
    revealed: values.revealed,
    maskedFields: values.maskedFields,
  };
  ctx.emit(result, () => {
    const heading = values.version === secret.currentVersion ? '' : `\n(values of version ${values.version})`;
    return `${formatFields(metadataFields(secret))}\n${heading}\n${valuesTable(values)}`;
  });
}

interface ListOptions {
  kind?: string;
  label?: string[];
  prefix?: string;
  deleted?: boolean;
  all?: boolean;
  mine?: boolean;
  limit?: number;
}

async function list(ctx: CommandContext, _args: string[], options: ListOptions) {
  const client = await ctx.client();
  const filter = {
    ...(options.kind === undefined ? {} : { kind: options.kind }),
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.prefix === undefined ? {} : { namePrefix: options.prefix }),
    ...(options.deleted ? { state: 'deleted' as const } : options.all ? { state: 'all' as const } : {}),
    ...(options.mine ? { view: 'mine' as const } : {}),
  };
  const rows: SecretMetadata[] = [];
  for await (const secret of client.secrets.iterate(filter)) {
    rows.push(secret);
    if (options.limit !== undefined && rows.length >= options.limit) break;
  }
  ctx.emitList(
    rows,
    options.deleted ? trashColumns : secretColumns,
    options.deleted ? 'The trash is empty.' : 'No secrets.',
  );
}

interface UpdateOptions extends ValueInputOptions {
  removeKey?: string[];
  description?: string;
  label?: string[];
  removeLabel?: string[];
  ifVersion?: number;
  expires?: Setting<string>;
  rotateEvery?: Setting<number>;
}

async function update(ctx: CommandContext, [ref, ...assignments]: string[], options: UpdateOptions) {
  const client = await ctx.client();
  let current: SecretMetadata | undefined;
  const secret = async () => {
    current ??= await client.secrets.get(ref!);
    return current;
  };
  const values = await collectValues(
    assignments,
    options,
    async () => client.kinds.get((await secret()).kind),
    'update',
  );
  const removeKeys = options.removeKey ?? [];
  const changesValues = Object.keys(values).length > 0 || removeKeys.length > 0;
  const changesMetadata =
    options.description !== undefined ||
    options.label !== undefined ||
    options.removeLabel !== undefined ||
    options.expires !== undefined ||
    options.rotateEvery !== undefined;
  if (!changesValues && !changesMetadata) {
    throw new CliError(
      'usage',
      'nothing to change: give field=value, --remove-key, --description, --label, --expires or --rotate-every',
    );
  }
  const ifVersion = options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion };
  let result: SecretMetadata | undefined;
  if (changesValues) {
    result = await client.secrets.updateValues(
      ref!,
      {
        ...(Object.keys(values).length > 0 ? { values } : {}),
        ...(removeKeys.length > 0 ? { removeKeys } : {}),
      },
      ifVersion,
    );
  }
  if (changesMetadata) {
    let labels: Record<string, string> | undefined;
    if (options.label !== undefined || options.removeLabel !== undefined) {
      labels = { ...(result ?? (await secret())).labels, ...parseLabels(options.label ?? []) };
      for (const name of options.removeLabel ?? []) delete labels[name];
    }
    result = await client.secrets.updateMetadata(
      ref!,
      {
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(labels === undefined ? {} : { labels }),
        ...(options.expires === undefined ? {} : { expiresAt: options.expires.value }),
        ...(options.rotateEvery === undefined ? {} : { rotateEveryDays: options.rotateEvery.value }),
      },
      // The values write already moved the version on; its check was made there.
      changesValues ? {} : ifVersion,
    );
  }
  ctx.emit(result!, (s) => `Updated ${s.name}: version ${s.currentVersion}.`);
}

async function rename(ctx: CommandContext, [ref, newName]: string[], options: { ifVersion?: number }) {
  const client = await ctx.client();
  const renamed = await client.secrets.rename(
    ref!,
    newName!,
    options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion },
  );
  ctx.emit(renamed, (s) => `Renamed ${ref} to ${s.name}.`);
}

async function remove(ctx: CommandContext, [ref]: string[]) {
  const deleted = await (await ctx.client()).secrets.delete(ref!);
  ctx.emit(
    deleted,
    (s) =>
      `Deleted ${s.name} (id ${s.id}); restorable until ${s.purgeAfter ?? 'purged'} with: coffer secret restore ${s.id}`,
  );
}

async function restore(ctx: CommandContext, [ref]: string[], options: { newName?: string }) {
  const restored = await (await ctx.client()).secrets.restore(
    ref!,
    options.newName === undefined ? {} : { newName: options.newName },
  );
  ctx.emit(restored, (s) => `Restored ${s.name} (version ${s.currentVersion}).`);
}

async function purge(ctx: CommandContext, [ref]: string[], options: { yes?: boolean }) {
  const client = await ctx.client();
  const secret = await client.secrets.get(ref!);
  if (!options.yes && !(await confirm(`Delete ${secret.name} (${secret.id}) and every version for good?`))) {
    throw new CliError('aborted', 'not purged');
  }
  await client.secrets.purge(secret.id);
  ctx.emit({ purged: secret.id, name: secret.name }, (r) => `Purged ${r.name} (${r.purged}).`);
}

async function deleteAll(ctx: CommandContext, _args: string[], options: { yes?: boolean }) {
  const client = await ctx.client();
  if (!options.yes) {
    let count = 0;
    for await (const s of client.secrets.iterate({})) if (s.access.level === 'manage') count++;
    const question = `Move every secret you manage (${count}) to the trash? They can be restored until purged.`;
    if (!(await confirm(question))) throw new CliError('aborted', 'nothing deleted');
  }
  const result = await client.secrets.deleteAll({ confirm: 'delete-all' });
  ctx.emit(result, (r) => `Moved ${r.deleted} secret(s) to the trash.`);
}

async function history(ctx: CommandContext, [ref]: string[]) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const rows = [];
  for await (const version of paginate((page) => client.secrets.versions(ref!, page))) rows.push(version);
  ctx.emitList(
    rows,
    [
      { header: 'version', cell: (v) => `${v.version}${v.current ? ' *' : ''}` },
      { header: 'created', cell: (v) => v.createdAt },
      { header: 'by', cell: (v) => v.createdBy },
      { header: 'changed fields', cell: (v) => v.changedFields },
      { header: 'rollback of', cell: (v) => v.rollbackOf },
    ],
    'No versions.',
  );
}

async function rollback(ctx: CommandContext, [ref, version]: string[], options: { ifVersion?: number }) {
  if (!/^[1-9]\d*$/.test(version!))
    throw new UsageError(`the version must be a positive whole number, got ${JSON.stringify(version)}`);
  const toVersion = Number(version);
  const result = await (await ctx.client()).secrets.rollback(
    ref!,
    toVersion,
    options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion },
  );
  ctx.emit(
    result,
    (s) => `Rolled ${s.name} back to the values of version ${toVersion}: now version ${s.currentVersion}.`,
  );
}

async function test(ctx: CommandContext, [ref]: string[]) {
  const result = await (await ctx.client()).secrets.test(ref!);
  ctx.emit(result, (r) =>
    r.ok
      ? `OK: ${ref} works (${r.durationMs} ms).`
      : `FAILED: ${ref}: ${cellText(r.reason)} (${r.durationMs} ms).`,
  );
  if (!result.ok) ctx.exitCode = exitCodes.checkFailed;
}

/** `coffer secret ...`: create, read, list, change, version and delete secrets. */
export function registerSecretCommands(program: Command): void {
  const secret = group(program, 'secret', 'create, read, list, change and delete secrets');

  const valueHelp =
    "field=value sets a field; field:=json a typed value (587, true); field=@file a file's content; field=- asks without echo (or reads standard input)";

  const createCommand = withCommonOptions(
    secret
      .command('create')
      .description('create a secret')
      .argument('<name>', "the new secret's name")
      .argument('[values...]', valueHelp)
      .option('-k, --kind <kind>', 'its kind (coffer kind list)', 'generic')
      .option('-d, --description <text>', 'a description')
      .option('-l, --label <name=value>', 'a label (repeatable)', collect)
      .option('-f, --from-file <file>', 'values from a JSON, YAML or dotenv file (- for standard input)')
      .option('-i, --interactive', 'ask for every field of the kind (secret ones without echo)')
      .option('--owner <user>', 'admins: create it for another user (username or id)')
      .option(
        '--expires <date>',
        'when its credentials expire: 2026-12-31 or 2026-12-31T18:00:00Z',
        expiresOption,
      )
      .option(
        '--rotate-every <days>',
        "rotate its values every 90, 90d or 12w days, or never (default: the kind's)",
        rotateEveryOption,
      ),
  );
  examples(createCommand, [
    'coffer secret create mail --kind smtp host=smtp.example.com port=587 username=app password=-',
    'coffer secret create mail --kind smtp --interactive',
    'coffer secret create deploy-key --kind ssh-key username=git privateKey=@~/.ssh/id_ed25519',
    'coffer secret create api --label env=prod token:=\'"0042"\' < /dev/null',
    'vault kv get -format=json -field=data secret/app | coffer secret create app --from-file -',
  ]);
  act<CreateOptions>(createCommand, create);

  const getCommand = withCommonOptions(
    secret
      .command('get')
      .description('show a secret: metadata and values, secret fields masked unless --reveal')
      .argument('<name>', 'the secret (name or id)')
      .option('-r, --reveal', 'show secret fields (needs read access; audited)')
      .option('-F, --field <field>', "print only this field's raw value, for scripts (revealed)")
      .option('--version <n>', 'the values of an older version', positiveInt),
  );
  examples(getCommand, [
    'coffer secret get mail',
    'coffer secret get mail --reveal',
    'PGPASSWORD="$(coffer secret get db --field password)" psql ...',
    'coffer secret get mail --json | jq .values',
  ]);
  act<GetOptions>(getCommand, get);

  const listCommand = withCommonOptions(
    secret
      .command('list')
      .alias('ls')
      .description('list the secrets you can read')
      .option('-k, --kind <kind>', 'only this kind')
      .option('-l, --label <name[=value]>', 'only with this label (repeatable; all must match)', collect)
      .option('-p, --prefix <prefix>', 'only names starting with this')
      .option('--deleted', 'the trash: deleted secrets that can be restored')
      .option('--all', 'live and deleted secrets')
      .option('--mine', 'only secrets you own')
      .option('-n, --limit <n>', 'at most this many', positiveInt),
  );
  examples(listCommand, [
    'coffer secret list',
    'coffer secret list --kind smtp --label env=prod',
    'coffer secret list --deleted',
    "coffer secret list --json | jq -r '.[].name'",
  ]);
  act<ListOptions>(listCommand, list);

  const updateCommand = withCommonOptions(
    secret
      .command('update')
      .description('change values (a new version), the description or labels')
      .argument('<name>', 'the secret (name or id)')
      .argument('[values...]', valueHelp)
      .option('--remove-key <field>', 'remove a field (repeatable)', collect)
      .option('-f, --from-file <file>', 'values from a JSON, YAML or dotenv file (- for standard input)')
      .option('-i, --interactive', 'ask for each field (empty answers keep the current value)')
      .option('-d, --description <text>', 'a new description')
      .option('-l, --label <name=value>', 'set a label (repeatable)', collect)
      .option('--remove-label <name>', 'remove a label (repeatable)', collect)
      .option('--expires <date>', 'a new expiry: 2026-12-31 or 2026-12-31T18:00:00Z, or never', expiresOption)
      .option(
        '--rotate-every <days>',
        'rotate its values every 90, 90d or 12w days, or never',
        rotateEveryOption,
      )
      .option('--if-version <n>', 'only if the current version is still n (check-and-set)', positiveInt),
  );
  examples(updateCommand, [
    'coffer secret update mail port=465 security=tls',
    'coffer secret update mail password=-',
    'coffer secret update api --remove-key legacyToken',
    'coffer secret update mail --label env=prod --remove-label draft',
    'coffer secret update mail password=- --if-version 3',
    'coffer secret update github-token token=- --expires 2027-06-30',
  ]);
  act<UpdateOptions>(updateCommand, update);

  const renameCommand = withCommonOptions(
    secret
      .command('rename')
      .description('rename a secret; its id, values and versions stay')
      .argument('<name>', 'the secret (name or id)')
      .argument('<new-name>', 'the new name')
      .option('--if-version <n>', 'only if the current version is still n', positiveInt),
  );
  examples(renameCommand, ['coffer secret rename mail mail-prod']);
  act<{ ifVersion?: number }>(renameCommand, rename);

  const deleteCommand = withCommonOptions(
    secret
      .command('delete')
      .alias('rm')
      .description('move a secret to the trash (restorable until purged; the name is free at once)')
      .argument('<name>', 'the secret (name or id)'),
  );
  examples(deleteCommand, ['coffer secret delete mail', 'coffer secret list --deleted']);
  act(deleteCommand, remove);

  const restoreCommand = withCommonOptions(
    secret
      .command('restore')
      .description('bring a secret back from the trash')
      .argument('<id>', 'the deleted secret (its id, or its name while unambiguous)')
      .option('--new-name <name>', 'restore under another name (when the old one was reused)'),
  );
  examples(restoreCommand, [
    'coffer secret restore 3f1c...',
    'coffer secret restore 3f1c... --new-name mail-old',
  ]);
  act<{ newName?: string }>(restoreCommand, restore);

  const purgeCommand = withCommonOptions(
    secret
      .command('purge')
      .description('delete a secret for good, with every version (asks first)')
      .argument('<id>', 'the secret (id or name)')
      .option('-y, --yes', 'do not ask'),
  );
  examples(purgeCommand, ['coffer secret purge 3f1c...', 'coffer secret purge 3f1c... --yes']);
  act<{ yes?: boolean }>(purgeCommand, purge);

  const deleteAllCommand = withCommonOptions(
    secret
      .command('delete-all')
      .description('move every secret you manage to the trash (asks first)')
      .option('-y, --yes', 'do not ask'),
  );
  examples(deleteAllCommand, ['coffer secret delete-all', 'coffer secret delete-all --yes --json']);
  act<{ yes?: boolean }>(deleteAllCommand, deleteAll);

  const historyCommand = withCommonOptions(
    secret
      .command('history')
      .description('the kept versions, newest first (* marks the current one)')
      .argument('<name>', 'the secret (name or id)'),
  );
  examples(historyCommand, ['coffer secret history mail', 'coffer secret get mail --version 2 --reveal']);
  act(historyCommand, history);

  const rollbackCommand = withCommonOptions(
    secret
      .command('rollback')
      .description("make a new version holding an older version's values")
      .argument('<name>', 'the secret (name or id)')
      .argument('<version>', 'the version whose values to bring back')
      .option('--if-version <n>', 'only if the current version is still n', positiveInt),
  );
  examples(rollbackCommand, ['coffer secret rollback mail 2']);
  act<{ ifVersion?: number }>(rollbackCommand, rollback);

  const testCommand = withCommonOptions(
    secret
      .command('test')
      .description("check that a secret's credentials work (exit code 8 when they do not)")
      .argument('<name>', 'the secret (name or id)'),
  );
  examples(testCommand, ['coffer secret test mail']);
  act(testCommand, test);

  registerSecretDueCommand(secret);
}
