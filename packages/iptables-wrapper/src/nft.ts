/**
 * NftBackend: native nftables, `table inet meshwan`, written as one `nft -f` transaction that replaces the whole
 * table (so it never touches fw4's `table inet fw4` or anything else) and read back with `nft -j`.
 */
import type { DriftReport } from './drift.js';
import { FirewallError } from './errors.js';
import { failedLine, inNetns, runTool, serialized, type ToolResult } from './exec.js';
import type { ApplyResult, BackendOptions, Firewall } from './firewall.js';
import { nftTable } from './nft-chains.js';
import { nftDrift, nftScript } from './nft-rules.js';
import { type NftState, parseNftJson, parseNftText } from './nft-state.js';
import type { Ruleset } from './types.js';
import { validate } from './validate.js';

export class NftBackend implements Firewall {
  readonly name = 'nft' as const;

  constructor(readonly options: BackendOptions = {}) {}

  private key(): string {
    return `nft:${this.options.netns ?? ''}`;
  }

  private async read(): Promise<NftState> {
    const json = await this.list(['-j']);
    if (json.code === 0) return this.parse(json, parseNftJson);
    // nft without JSON support (OpenWrt's nftables-nojson) says so; then read the text listing.
    if (/JSON support not compiled-in/i.test(json.stderr)) {
      const text = await this.list(['-a']);
      if (text.code === 0) return this.parse(text, parseNftText);
      return this.absentOrFail(text);
    }
    return this.absentOrFail(json);
  }

  private list(flags: string[]): Promise<ToolResult> {
    return runTool(inNetns(this.options.netns, ['nft', ...flags, 'list', 'table', 'inet', nftTable]));
  }

  /**
   * No table yet: nft says "Error: No such file or directory" over the command it ran; that is an empty state, not
   * an error. `ip netns exec` says "Cannot open network namespace …: No such file or directory": that one fails.
   */
  private absentOrFail(result: ToolResult): NftState {
    if (/^Error: No such file or directory$/m.test(result.stderr)) return { chains: new Map() };
    throw new FirewallError(this.name, result.command, result.code, 0, '', result.stderr);
  }

  private parse(result: ToolResult, parser: (text: string) => NftState): NftState {
    try {
      return parser(result.stdout);
    } catch (err: unknown) {
      throw new FirewallError(
        this.name,
        result.command,
        result.code,
        0,
        '',
        `cannot read nft's listing: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private async write(script: string): Promise<void> {
    const argv = inNetns(this.options.netns, ['nft', '-f', '/dev/stdin']);
    const result = await runTool(argv, script);
    if (result.code !== 0) {
      const line = failedLine(result.stderr);
      throw new FirewallError(this.name, argv, result.code, line, script.split('\n')[line - 1]?.trim() ?? '', result.stderr);
    }
  }

  async apply(ruleset: Ruleset): Promise<ApplyResult> {
    validate(ruleset, 'nft');
    return serialized(this.key(), async () => {
      const drift = nftDrift(await this.read(), ruleset.rules);
      if (drift.length > 0) await this.write(nftScript(ruleset.rules));
      return { changed: drift.length > 0, repaired: drift };
    });
  }

  remove(): Promise<void> {
    return serialized(this.key(), () => this.write(nftScript([])));
  }

  async status(ruleset: Ruleset): Promise<DriftReport> {
    validate(ruleset, 'nft');
    return serialized(this.key(), async () => {
      const drift = nftDrift(await this.read(), ruleset.rules);
      return { inSync: drift.length === 0, drift };
    });
  }

  /** The transaction apply() would run; for the debugging CLI. */
  plan(ruleset: Ruleset): string {
    validate(ruleset, 'nft');
    return nftScript(ruleset.rules);
  }
}
