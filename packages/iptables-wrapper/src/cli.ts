/**
 * meshwan-fw: a read-only debugging command over the API. Parses arguments, calls the API, prints text or --json,
 * sets the exit code (0 ok / in sync, 1 drift, 2 usage or rule error or a refused command, 3 firewall tool error).
 *
 * It never writes the firewall. meshwan's rules (`meshwan_*` chains, `table inet meshwan`) are one ruleset with
 * one owner, policy's `meshwan apply`: every apply() replaces everything meshwan has, so a second writer (the old
 * `meshwan-fw apply --dns-redirect GID`) silently dropped the conntrack zone, the guard and the connmark rules it
 * did not know about, and `remove` dropped all of them.
 */
import { files, proc } from '@meshwan/os';
import { detectBackend } from './detect.js';
import { driftFamily } from './drift.js';
import { DryRunBackend } from './dry-run.js';
import { FirewallError, RulesetError } from './errors.js';
import type { Firewall } from './firewall.js';
import { IptablesBackend } from './iptables.js';
import { NftBackend } from './nft.js';
import type { Ruleset } from './types.js';

export const usage = `usage: meshwan-fw COMMAND RULESET.json [options]
commands (none of them changes the firewall):
  status   compare the kernel with the ruleset; exit 1 on drift
  print    print the ruleset as the backend's commands
meshwan's rules have one owner: \`meshwan apply\` (--firewall-only for the firewall alone) writes them.
options:
  --backend auto|iptables|iptables-legacy|iptables-nft|nft   (default auto: see detectBackend)
  --netns NAME      run the tools inside network namespace NAME
  --json            machine-readable output`;

/** Commands that would write meshwan's rules and are refused, with what to run instead. */
const refused = new Map<string, string>([
  ['apply', "would replace meshwan's rules, which `meshwan apply` owns: run `meshwan apply --firewall-only`"],
  ['remove', 'would delete the rules `meshwan apply` owns (DNS zone, redirect, guard, connmark)'],
]);

const backendNames = ['auto', 'iptables', 'iptables-legacy', 'iptables-nft', 'nft'];

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = { out: (t) => proc.writeStdout(t), err: (t) => proc.writeStderr(t) };

function pickBackend(name: string, netns: string | undefined): Firewall {
  const ns = netns === undefined ? {} : { netns };
  if (name === 'nft') return new NftBackend(ns);
  if (name === 'iptables-legacy' || name === 'iptables-nft')
    return new IptablesBackend({ variant: name === 'iptables-nft' ? 'nft' : 'legacy', ...ns });
  return detectBackend({ override: name === 'iptables' ? 'iptables' : 'auto', ...ns });
}

/** A JSON.stringify replacer: the output names a drift's family as it always has (`ipv4`, `ipv6`, nft's `inet`). */
function driftFamilyWords(key: string, value: unknown): unknown {
  return key === 'family' && (value === 4 || value === 6) ? driftFamily(value) : value;
}

/** Thrown when the command line is wrong (exit 2, with the usage). */
class UsageError extends Error {}

/** Thrown when a command would write meshwan's rules, which only `meshwan apply` does (exit 2). */
class RefusedError extends Error {}

function loadRuleset(file: string | undefined): Ruleset {
  if (file === undefined) throw new UsageError('expected RULESET.json');
  let text: string;
  try {
    text = files.readText(file);
  } catch (err: unknown) {
    throw new UsageError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return JSON.parse(text) as Ruleset;
  } catch (err: unknown) {
    throw new UsageError(`${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

interface Options {
  values: { backend: string; netns?: string; json: boolean; help: boolean };
  positionals: string[];
}

/** The options as node:util's parseArgs read them (`--name value`, `--name=value`, `-h`, `--` ends them). */
function parseOptions(args: readonly string[]): Options {
  const values: Options['values'] = { backend: 'auto', json: false, help: false };
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (name === '--backend' || name === '--netns') {
      const value = eq < 0 ? args[++i] : a.slice(eq + 1);
      if (value === undefined) throw new UsageError(`Option '${name} <value>' argument missing`);
      if (name === '--backend') values.backend = value;
      else values.netns = value;
    } else if ((name === '--json' || name === '--help' || name === '-h') && eq < 0) {
      if (name === '--json') values.json = true;
      else values.help = true;
    } else throw new UsageError(`Unknown option '${a}'`);
  }
  return { values, positionals };
}

export async function runFirewallCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    const { values, positionals } = parseOptions(args);
    if (values.help) {
      io.out(`${usage}\n`);
      return 0;
    }
    const [command, file, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const backend = values.backend ?? 'auto';
    const print = (value: unknown, text: string) => io.out(values.json ? `${JSON.stringify(value, driftFamilyWords, 2)}\n` : text);
    const why = command === undefined ? undefined : refused.get(command);
    if (why !== undefined) throw new RefusedError(`${command}: refused: it ${why}`);
    if (!backendNames.includes(backend))
      throw new UsageError(`--backend: expected ${backendNames.join(', ')}, got ${JSON.stringify(backend)}`);
    switch (command) {
      case 'print': {
        const ruleset = loadRuleset(file);
        const flavor = backend === 'nft' ? 'nft' : 'iptables';
        await new DryRunBackend({ flavor, write: io.out }).apply(ruleset);
        return 0;
      }
      case 'status': {
        const ruleset = loadRuleset(file);
        const fw = pickBackend(backend, values.netns);
        const report = await fw.status(ruleset);
        print(
          report,
          report.inSync
            ? `${fw.name}: in sync\n`
            : report.drift.map((d) => `${d.kind} ${driftFamily(d.family)} ${d.table} ${d.chain}: ${d.detail}\n`).join(''),
        );
        return report.inSync ? 0 : 1;
      }
      default:
        throw new UsageError(command === undefined ? 'expected a command' : `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err: unknown) {
    if (err instanceof RulesetError) {
      io.err(`meshwan-fw: ${err.message.replaceAll('\n', '\nmeshwan-fw: ')}\n`);
      return 2;
    }
    if (err instanceof RefusedError) {
      io.err(`meshwan-fw: ${err.message}\n`);
      return 2;
    }
    if (err instanceof FirewallError) {
      io.err(`meshwan-fw: ${err.message}\n`);
      return 3;
    }
    if (err instanceof UsageError) {
      io.err(`meshwan-fw: ${err.message}\n${usage}\n`);
      return 2;
    }
    throw err;
  }
}
