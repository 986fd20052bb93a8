/**
 * DryRunBackend: prints the commands a backend would run on a firewall that has none of our rules (a fresh boot),
 * instead of running them. It remembers the last ruleset "applied", so status() and a second apply() behave like
 * a real backend's.
 */
import { type IpFamily, proc } from '@meshwan/os';
import type { DriftReport } from './drift.js';
import type { ApplyResult, Firewall } from './firewall.js';
import { parseSave, planIptables, type SavedState } from './iptables-plan.js';
import { nftScript } from './nft-rules.js';
import type { Rule, Ruleset } from './types.js';
import { validate } from './validate.js';

export interface DryRunOptions {
  /** Whose commands to print. */
  readonly flavor: 'iptables' | 'nft';
  /** Where the text goes; defaults to stdout. */
  readonly write?: (text: string) => void;
}

/** The iptables-save state our own apply() of `rules` would leave on an empty firewall. */
function simulatedState(family: IpFamily, rules: readonly Rule[]): SavedState {
  const { script } = planIptables(family, new Map(), rules);
  return parseSave(script.replace(/^-I (\S+) 1 /gm, '-A $1 '));
}

const heredoc = (command: string, script: string) => `${command} <<'EOF'\n${script}EOF\n`;

export class DryRunBackend implements Firewall {
  readonly name = 'dry-run' as const;
  private applied: readonly Rule[] = [];
  private readonly out: (text: string) => void;

  constructor(readonly options: DryRunOptions) {
    this.out = options.write ?? ((text) => proc.writeStdout(text));
  }

  /** The commands for `rules`, as shell text. */
  render(rules: readonly Rule[]): string {
    if (this.options.flavor === 'nft') return heredoc('nft -f -', nftScript(rules));
    return ([4, 6] as const)
      .map((family) => {
        const { script } = planIptables(family, new Map(), rules);
        return script ? heredoc(`${family === 4 ? 'iptables' : 'ip6tables'}-restore --noflush -w`, script) : '';
      })
      .join('');
  }

  async apply(ruleset: Ruleset): Promise<ApplyResult> {
    validate(ruleset, this.options.flavor);
    const changed = JSON.stringify(ruleset.rules) !== JSON.stringify(this.applied);
    if (changed) this.out(this.render(ruleset.rules));
    this.applied = ruleset.rules;
    return { changed, repaired: [] };
  }

  async remove(): Promise<void> {
    if (this.options.flavor === 'nft') this.out(heredoc('nft -f -', nftScript([])));
    else {
      for (const family of [4, 6] as const) {
        const { script } = planIptables(family, simulatedState(family, this.applied), []);
        if (script) this.out(heredoc(`${family === 4 ? 'iptables' : 'ip6tables'}-restore --noflush -w`, script));
      }
    }
    this.applied = [];
  }

  async status(ruleset: Ruleset): Promise<DriftReport> {
    validate(ruleset, this.options.flavor);
    if (this.options.flavor === 'nft') return { inSync: JSON.stringify(ruleset.rules) === JSON.stringify(this.applied), drift: [] };
    const drift = ([4, 6] as const).flatMap((family) => planIptables(family, simulatedState(family, this.applied), ruleset.rules).drift);
    return { inSync: drift.length === 0, drift };
  }
}
