/**
 * meshwan-fw: a small debugging command over the API. Parses arguments, calls the API, prints text or --json,
 * sets the exit code (0 ok / in sync, 1 drift, 2 usage or rule error, 3 firewall tool error).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { detectBackend } from './detect.js';
import { dnsRedirectRuleset } from './dns-redirect.js';
import { DryRunBackend } from './dry-run.js';
import { FirewallError, RulesetError } from './errors.js';
import type { Firewall } from './firewall.js';
import { IptablesBackend } from './iptables.js';
import { NftBackend } from './nft.js';
import type { Ruleset } from './types.js';

export const usage = `usage: meshwan-fw COMMAND [RULESET.json | --dns-redirect GID [--port 54]] [options]
commands:
  apply    replace meshwan's rules with the ruleset (repairs drift); prints what changed
  status   compare the kernel with the ruleset; exit 1 on drift
  remove   delete every chain, jump and table meshwan owns
  print    print the ruleset as the backend's commands (nothing is changed)
options:
  --backend auto|iptables|iptables-legacy|iptables-nft|nft   (default auto: see detectBackend)
  --netns NAME      run the tools inside network namespace NAME
  --dry-run         print the commands instead of running them
  --json            machine-readable output`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

function pickBackend(name: string, netns: string | undefined, dryRun: boolean, io: CliIo): Firewall {
  const ns = netns === undefined ? {} : { netns };
  if (dryRun) return new DryRunBackend({ flavor: name === 'nft' ? 'nft' : 'iptables', write: io.out });
  if (name === 'nft') return new NftBackend(ns);
  if (name === 'iptables-legacy' || name === 'iptables-nft')
    return new IptablesBackend({ variant: name === 'iptables-nft' ? 'nft' : 'legacy', ...ns });
  if (name === 'auto' || name === 'iptables') return detectBackend({ override: name, ...ns });
  throw new UsageError(`--backend: expected auto, iptables, iptables-legacy, iptables-nft or nft, got ${JSON.stringify(name)}`);
}

class UsageError extends Error {}

function loadRuleset(file: string | undefined, gid: string | undefined, port: string | undefined): Ruleset {
  if (gid !== undefined) {
    if (!/^\d+$/.test(gid)) throw new UsageError(`--dns-redirect: expected a numeric gid, got ${JSON.stringify(gid)}`);
    if (port !== undefined && !/^\d+$/.test(port)) throw new UsageError(`--port: expected a port number, got ${JSON.stringify(port)}`);
    return dnsRedirectRuleset({ gid: Number(gid), ...(port === undefined ? {} : { port: Number(port) }) });
  }
  if (file === undefined) throw new UsageError('expected RULESET.json or --dns-redirect GID');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new UsageError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return JSON.parse(text) as Ruleset;
  } catch (err: unknown) {
    throw new UsageError(`${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function runFirewallCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        backend: { type: 'string', default: 'auto' },
        netns: { type: 'string' },
        'dns-redirect': { type: 'string' },
        port: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      io.out(`${usage}\n`);
      return 0;
    }
    const [command, file, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const backend = values.backend ?? 'auto';
    const print = (value: unknown, text: string) => io.out(values.json ? `${JSON.stringify(value, null, 2)}\n` : text);
    switch (command) {
      case 'print': {
        const ruleset = loadRuleset(file, values['dns-redirect'], values.port);
        const fw = pickBackend(backend, values.netns, true, io);
        await (fw as DryRunBackend).apply(ruleset);
        return 0;
      }
      case 'apply': {
        const fw = pickBackend(backend, values.netns, values['dry-run'] ?? false, io);
        const result = await fw.apply(loadRuleset(file, values['dns-redirect'], values.port));
        print(
          result,
          result.changed
            ? `${fw.name}: applied; repaired ${result.repaired.map((d) => `${d.kind} ${d.chain}`).join(', ')}\n`
            : `${fw.name}: already in place\n`,
        );
        return 0;
      }
      case 'status': {
        const fw = pickBackend(backend, values.netns, values['dry-run'] ?? false, io);
        const report = await fw.status(loadRuleset(file, values['dns-redirect'], values.port));
        print(
          report,
          report.inSync
            ? `${fw.name}: in sync\n`
            : report.drift.map((d) => `${d.kind} ${d.family} ${d.table} ${d.chain}: ${d.detail}\n`).join(''),
        );
        return report.inSync ? 0 : 1;
      }
      case 'remove': {
        const fw = pickBackend(backend, values.netns, values['dry-run'] ?? false, io);
        await fw.remove();
        print({ removed: true }, `${fw.name}: removed\n`);
        return 0;
      }
      default:
        throw new UsageError(command === undefined ? 'expected a command' : `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err: unknown) {
    if (err instanceof RulesetError) {
      io.err(`meshwan-fw: ${err.message.replaceAll('\n', '\nmeshwan-fw: ')}\n`);
      return 2;
    }
    if (err instanceof FirewallError) {
      io.err(`meshwan-fw: ${err.message}\n`);
      return 3;
    }
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.err(`meshwan-fw: ${err.message}\n${usage}\n`);
      return 2;
    }
    throw err;
  }
}
