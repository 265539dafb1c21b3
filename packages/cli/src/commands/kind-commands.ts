import type { Kind, KindField } from '@coffer/client';
import type { Command } from 'commander';
import { act, examples, group, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { formatFields, formatTable } from '../output/table.js';

async function list(ctx: CommandContext) {
  const rows: Kind[] = [];
  for await (const kind of (await ctx.client()).kinds.iterate()) rows.push(kind);
  ctx.emitList(
    rows.map(({ logo: _logo, jsonSchema: _schema, ...kind }) => kind),
    [
      { header: 'id', cell: (k) => k.id },
      { header: 'name', cell: (k) => k.displayName },
      { header: 'fields', cell: (k) => (k.freeForm ? 'any' : k.fields.map((f) => f.name)) },
      { header: 'source', cell: (k) => k.source },
    ],
    'No kinds.',
  );
}

function fieldNotes(f: KindField): string {
  const notes: string[] = [];
  if (f.options !== undefined) notes.push(`one of ${f.options.join(', ')}`);
  if (f.min !== undefined) notes.push(`min ${f.min}`);
  if (f.max !== undefined) notes.push(`max ${f.max}`);
  if (f.format !== undefined && f.format !== 'text') notes.push(f.format);
  if (f.help !== undefined) notes.push(f.help);
  return notes.join('; ');
}

async function show(ctx: CommandContext, [id]: string[], options: { schema?: boolean }) {
  const kind: Kind = await (await ctx.client()).kinds.get(id!);
  if (options.schema) {
    ctx.out(JSON.stringify(kind.jsonSchema, null, 2));
    return;
  }
  const { logo: _logo, ...shown } = kind;
  ctx.emit(ctx.json ? kind : shown, () => {
    const head = formatFields([
      ['id', kind.id],
      ['name', kind.displayName],
      ['description', kind.description],
      ['source', kind.source],
    ]);
    if (kind.freeForm) return `${head}\n\nAny field names (at most 100); every field is secret.`;
    const table = formatTable(kind.fields, [
      { header: 'field', cell: (f) => f.name },
      { header: 'type', cell: (f) => f.type },
      { header: 'required', cell: (f) => (f.required ? 'yes' : 'no') },
      { header: 'secret', cell: (f) => (f.secret ? 'yes' : 'no') },
      { header: 'default', cell: (f) => f.default },
      { header: 'label', cell: (f) => f.label },
      { header: 'notes', cell: fieldNotes },
    ]);
    return `${head}\n\n${table}`;
  });
}

/** `coffer kind list|show`. */
export function registerKindCommands(program: Command): void {
  const kind = group(program, 'kind', 'the kinds of secret and their fields');
  const listCommand = withCommonOptions(kind.command('list').alias('ls').description('every kind'));
  examples(listCommand, ['coffer kind list']);
  act(listCommand, list);
  const showCommand = withCommonOptions(
    kind
      .command('show')
      .description("a kind's fields: types, defaults, which are secret")
      .argument('<kind>', 'the kind id')
      .option('--schema', 'print its JSON Schema'),
  );
  examples(showCommand, ['coffer kind show smtp', 'coffer kind show smtp --schema']);
  act<{ schema?: boolean }>(showCommand, show);
}
