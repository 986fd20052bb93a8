/**
 * IptablesBackend: iptables-legacy or iptables-nft (nft-compat), driven by `iptables-save` to read and
 * `iptables-restore --noflush -w` to write, for IPv4 and `ip6tables-*` for IPv6. Only chains named meshwan_* and
 * the jumps into them are ever written. Before committing either family, both scripts are checked with
 * `--test`, so a rule the tool rejects leaves both families untouched.
 */

import type { IpFamily } from '@meshwan/os';
import type { DriftReport } from './drift.js';
import { FirewallError } from './errors.js';
import { failedLine, inNetns, runTool, serialized } from './exec.js';
import type { ApplyResult, BackendOptions, Firewall } from './firewall.js';
import { parseSave, planIptables, rollbackScript, type SavedState } from './iptables-plan.js';
import { lockPath, withFileLock } from './lock.js';
import type { Rule, Ruleset } from './types.js';
import { validate } from './validate.js';

export interface IptablesOptions extends BackendOptions {
  /** legacy: x_tables (iptables-legacy-*); nft: nft-compat (iptables-nft-*). */
  readonly variant: 'legacy' | 'nft';
  /**
   * Use the plain names (iptables-save, iptables-restore) instead of the variant's (iptables-nft-save …): for
   * systems where only the plain names exist. detectBackend() sets this after asking `iptables -V`.
   */
  readonly plainNames?: boolean;
}

export class IptablesBackend implements Firewall {
  readonly name: 'iptables-legacy' | 'iptables-nft';

  constructor(readonly options: IptablesOptions) {
    this.name = options.variant === 'legacy' ? 'iptables-legacy' : 'iptables-nft';
  }

  /** The tool for `family`, e.g. ip6tables-nft-restore. */
  tool(family: IpFamily, what: 'save' | 'restore' | ''): string {
    const base = family === 4 ? 'iptables' : 'ip6tables';
    const variant = this.options.plainNames ? '' : `-${this.options.variant}`;
    return `${base}${variant}${what ? `-${what}` : ''}`;
  }

  private key(): string {
    return `${this.name}:${this.options.netns ?? ''}`;
  }

  /** One writer at a time: per namespace in this process (queue), machine-wide across processes (file lock). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return serialized(this.key(), () => withFileLock(lockPath(), this.name, fn));
  }

  private fail(argv: readonly string[], code: number | null, stderr: string, script = ''): FirewallError {
    const line = failedLine(stderr);
    return new FirewallError(this.name, argv, code, line, script.split('\n')[line - 1] ?? '', stderr);
  }

  private async save(family: IpFamily): Promise<string> {
    const argv = inNetns(this.options.netns, [this.tool(family, 'save')]);
    const result = await runTool(argv);
    if (result.code !== 0) throw this.fail(argv, result.code, result.stderr);
    return result.stdout;
  }

  private async restore(family: IpFamily, script: string, test: boolean): Promise<void> {
    const argv = inNetns(this.options.netns, [this.tool(family, 'restore'), '--noflush', '-w', ...(test ? ['--test'] : [])]);
    const result = await runTool(argv, script);
    if (result.code !== 0) throw this.fail(argv, result.code, result.stderr, script);
  }

  /** Reads both families and plans the change to `rules`; then, unless `dryRun`, tests and commits the scripts. */
  private async sync(
    rules: readonly Rule[],
    write: boolean,
  ): Promise<{ drift: DriftReport['drift']; scripts: [IpFamily, string][]; states: [IpFamily, SavedState][] }> {
    const states = await Promise.all(
      ([4, 6] as const).map(async (family) => [family, parseSave(await this.save(family))] as [IpFamily, SavedState]),
    );
    const plans = states.map(([family, state]) => [family, planIptables(family, state, rules)] as const);
    const scripts = plans.filter(([, p]) => p.script !== '').map(([family, p]) => [family, p.script] as [IpFamily, string]);
    if (write) {
      for (const [family, script] of scripts) await this.restore(family, script, true);
      const committed: IpFamily[] = [];
      for (const [family, script] of scripts) {
        try {
          await this.restore(family, script, false);
          committed.push(family);
        } catch (err: unknown) {
          // The kernel refused this family after the other one was committed: put the other one back.
          for (const done of committed) {
            const old = states.find(([f]) => f === done)?.[1] ?? new Map();
            const current = parseSave(await this.save(done));
            await this.restore(done, rollbackScript(current, old), false);
            if (this.options.variant === 'nft') await this.dropEmptyBuiltins(done, current);
          }
          throw err;
        }
      }
    }
    return { drift: plans.flatMap(([, p]) => p.drift), scripts, states };
  }

  async apply(ruleset: Ruleset): Promise<ApplyResult> {
    validate(ruleset, 'iptables');
    return this.exclusive(async () => {
      const { drift } = await this.sync(ruleset.rules, true);
      return { changed: drift.length > 0, repaired: drift };
    });
  }

  async remove(): Promise<void> {
    await this.exclusive(async () => {
      const { states } = await this.sync([], true);
      if (this.options.variant === 'nft') for (const [family, state] of states) await this.dropEmptyBuiltins(family, state);
    });
  }

  /**
   * nft-compat creates a table's built-in chains on first use (legacy tables always have them). In a table where
   * we had a jump, built-in chains now empty with policy ACCEPT are deleted (and the table, once empty), so
   * remove() leaves `nft list ruleset` as it was. An empty ACCEPT chain decides nothing, and iptables-nft
   * re-creates it whenever something needs it. Skipped when `nft` is not installed.
   */
  private async dropEmptyBuiltins(family: IpFamily, before: SavedState): Promise<void> {
    const nftFamily = family === 4 ? 'ip' : 'ip6';
    for (const [table, saved] of before) {
      const hooked = new Set(
        saved.rules.filter((r) => !r.chain.startsWith('meshwan_') && r.args.some((a) => a.startsWith('meshwan_'))).map((r) => r.chain),
      );
      if (hooked.size === 0) continue;
      const argv = inNetns(this.options.netns, ['nft', '-j', 'list', 'table', nftFamily, table]);
      const listed = await runTool(argv);
      if (listed.code !== 0) continue; // no nft, or the table is already gone
      const items =
        (JSON.parse(listed.stdout) as { nftables?: Record<string, { name?: string; chain?: string; hook?: string; policy?: string }>[] })
          .nftables ?? [];
      const chains = items.flatMap((i) => (i.chain ? [i.chain] : []));
      const busy = new Set(items.flatMap((i) => (i.rule?.chain ? [i.rule.chain] : [])));
      const empty = chains
        .filter((c) => c.name && hooked.has(c.name) && c.hook && c.policy === 'accept' && !busy.has(c.name))
        .map((c) => c.name ?? '');
      if (empty.length === 0) continue;
      const objects = items.filter((i) => !('metainfo' in i) && !('table' in i)).length;
      const script = [
        ...empty.map((c) => `delete chain ${nftFamily} ${table} ${c}`),
        ...(objects === empty.length ? [`delete table ${nftFamily} ${table}`] : []),
      ].join('\n');
      const result = await runTool(inNetns(this.options.netns, ['nft', '-f', '/dev/stdin']), `${script}\n`);
      // EBUSY: something added a rule or a jump meanwhile; then the chain is not ours to delete.
      if (result.code !== 0 && !/Device or resource busy/.test(result.stderr))
        throw this.fail(result.command, result.code, result.stderr, script);
    }
  }

  async status(ruleset: Ruleset): Promise<DriftReport> {
    validate(ruleset, 'iptables');
    return serialized(this.key(), async () => {
      const { drift } = await this.sync(ruleset.rules, false);
      return { inSync: drift.length === 0, drift };
    });
  }

  /** The restore scripts apply() would run now, per family; for the debugging CLI. */
  async plan(ruleset: Ruleset): Promise<[IpFamily, string][]> {
    validate(ruleset, 'iptables');
    return (await this.sync(ruleset.rules, false)).scripts;
  }
}
