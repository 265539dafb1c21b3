import { Argument, type Command, Option } from 'commander';
import { act, examples } from '../command-kit.js';
import type { CommandContext } from '../context.js';

/** One command of the tree, as the completion scripts need it. */
interface Node {
  /** `secret get`, or '' for the root. */
  path: string;
  /** Every way to type the path: `secret list` and `secret ls`. */
  spellings: string[];
  subcommands: { name: string; aliases: string[]; description: string }[];
  options: { flag: string; description: string }[];
  /** The first positional argument names a secret (its names are completed). */
  takesSecret: boolean;
}

const secretArguments = new Set(['name', 'names', 'id']);

/**
 * Walks commander's tree (hidden commands left out), so the scripts never drift from it.
 * Aliases (`ls`, `rm`) lead to the same node as the names they stand for.
 */
function nodesOf(command: Command, path = '', spellings = ['']): Node[] {
  const visible = command.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
  const options = command.options
    .filter((o) => !o.hidden)
    .flatMap((o) =>
      [o.long, o.short]
        .filter((f): f is string => f !== undefined)
        .map((flag) => ({ flag, description: o.description })),
    );
  options.push({ flag: '--help', description: 'show help' });
  const first = command.registeredArguments[0]?.name();
  const node: Node = {
    path,
    spellings,
    subcommands: visible.map((c) => ({ name: c.name(), aliases: c.aliases(), description: c.description() })),
    options,
    takesSecret:
      first !== undefined &&
      secretArguments.has(first) &&
      !['user', 'group', 'token', 'kind'].includes(path.split(' ')[0]!),
  };
  const under = (prefix: string, name: string) => (prefix === '' ? name : `${prefix} ${name}`);
  return [
    node,
    ...visible.flatMap((c) =>
      nodesOf(
        c,
        under(path, c.name()),
        spellings.flatMap((p) => [c.name(), ...c.aliases()].map((name) => under(p, name))),
      ),
    ),
  ];
}

/** The shell `case` patterns of the words that lead from one node to the next: `"secret/ls"`. */
const transitionsOf = (nodes: readonly Node[]) =>
  nodes.flatMap((n) =>
    n.spellings.flatMap((p) =>
      n.subcommands.flatMap((s) => [s.name, ...s.aliases].map((w) => `"${p}/${w}"`)),
    ),
  );

/** The shell `case` pattern of a node: every spelling of its path. */
const patternOf = (n: Node) => n.spellings.map((p) => `"${p}"`).join('|');

const shellWords = (words: readonly string[]) => words.join(' ');

/** A bash completion function: subcommands, options, and secret names where a secret is named. */
export function bashCompletion(program: Command): string {
  const nodes = nodesOf(program);
  const transitions = transitionsOf(nodes);
  const cases = nodes.map((n) => {
    const words = shellWords([...n.subcommands.map((s) => s.name), ...n.options.map((o) => o.flag)]);
    const secrets = n.takesSecret ? '; secrets=1' : '';
    return `    ${patternOf(n)}) words="${words}"${secrets} ;;`;
  });
  return `# bash completion for coffer. Load it with:
#   source <(coffer completion bash)
# or install it: coffer completion bash > /etc/bash_completion.d/coffer
_coffer() {
  local cur cmdpath="" word words="" secrets=0 i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    # After "--" (coffer run -- cmd ...) complete like the command line does.
    if [[ $word == -- ]]; then COMPREPLY=(); compopt -o default 2>/dev/null; return 0; fi
    case "$cmdpath/$word" in
      ${transitions.join('|')}) cmdpath="\${cmdpath:+$cmdpath }$word" ;;
    esac
  done
  case "$cmdpath" in
${cases.join('\n')}
  esac
  if [[ $cur != -* && $secrets == 1 ]]; then
    words="$words $(coffer __complete secrets 2>/dev/null)"
  fi
  if [[ \${COMP_WORDS[COMP_CWORD-1]} == --kind || \${COMP_WORDS[COMP_CWORD-1]} == -k ]]; then
    words="$(coffer __complete kinds 2>/dev/null)"
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _coffer coffer
`;
}

const zshQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** `name:description` for _describe: a colon in the name is escaped, the first one separates. */
const zshItem = (name: string, description: string) =>
  zshQuote(`${name.replace(/:/g, '\\:')}:${description}`);

/** A zsh completion function (#compdef), with descriptions. */
export function zshCompletion(program: Command): string {
  const nodes = nodesOf(program);
  const transitions = transitionsOf(nodes);
  const cases = nodes.map((n) => {
    const commands = n.subcommands.map((s) => zshItem(s.name, s.description)).join(' ');
    const options = n.options.map((o) => zshItem(o.flag, o.description)).join(' ');
    return `    ${patternOf(n)}) commands=(${commands}); options=(${options}); secrets=${n.takesSecret ? 1 : 0} ;;`;
  });
  return `#compdef coffer
# zsh completion for coffer. Load it with:
#   source <(coffer completion zsh)
# or install it as _coffer in a directory of your $fpath.
_coffer() {
  local cmdpath="" word i secrets=0
  local -a commands options
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    if [[ $word == -- ]]; then _normal; return; fi
    case "$cmdpath/$word" in
      ${transitions.join('|')}) cmdpath="\${cmdpath:+$cmdpath }$word" ;;
    esac
  done
  case "$cmdpath" in
${cases.join('\n')}
  esac
  if [[ \${words[CURRENT-1]} == (--kind|-k) ]]; then
    compadd -- \${(f)"$(coffer __complete kinds 2>/dev/null)"}
    return
  fi
  if [[ $PREFIX == -* ]]; then
    _describe -t options 'option' options
  elif (( \${#commands} > 0 )); then
    _describe -t commands 'command' commands
  elif (( secrets )); then
    compadd -- \${(f)"$(coffer __complete secrets 2>/dev/null)"}
  else
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _coffer "$@"
else
  compdef _coffer coffer
fi
`;
}

async function complete(ctx: CommandContext, [what]: string[]) {
  // Completion must never print errors into the user's command line: fail silently.
  try {
    const client = await ctx.client();
    if (what === 'secrets') {
      const names: string[] = [];
      for await (const s of client.secrets.iterate({})) names.push(s.name);
      ctx.out(names.join('\n'));
    } else if (what === 'kinds') {
      const page = await client.kinds.list();
      ctx.out(page.items.map((k) => k.id).join('\n'));
    }
  } catch {
    // nothing to offer
  }
}

/** `coffer completion bash|zsh`, and the hidden `coffer __complete` the scripts call. */
export function registerCompletionCommand(program: Command): void {
  const command = program
    .command('completion')
    .description('print the shell completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']));
  examples(command, [
    'source <(coffer completion bash)            # in ~/.bashrc',
    'source <(coffer completion zsh)             # in ~/.zshrc',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
    'coffer completion zsh > "${fpath[1]}/_coffer"',
  ]);
  command.action((shell: string) => {
    process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
  });

  const hidden = program
    .command('__complete', { hidden: true })
    .argument('<what>')
    .addOption(new Option('--addr <url>').hideHelp());
  act(hidden, complete);
}
