/** Errors of @meshwan/iptables-wrapper. Each carries where it happened as fields, not only in its message. */

/**
 * Thrown when a rule is not valid, before anything touches the kernel. `index` is the rule's position in
 * `ruleset.rules`, `field` the dotted path inside it (`match.destinationPort`).
 */
export class RuleError extends Error {
  override readonly name = 'RuleError';
  constructor(
    readonly index: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`rules[${index}]${field ? `.${field}` : ''}: ${reason}`);
  }
}

/** Thrown by validate() when a ruleset has problems: every one is kept, in rule order. */
export class RulesetError extends Error {
  override readonly name = 'RulesetError';
  constructor(readonly errors: readonly RuleError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/** Which tool a FirewallError came from. */
export type BackendName = 'iptables-legacy' | 'iptables-nft' | 'nft' | 'dry-run';

/**
 * Thrown when a firewall tool fails (non-zero exit, cannot be started) or prints something we cannot read.
 * `line` is the 1-based line of the script the tool rejected when it says so (iptables-restore: "line N failed";
 * nft: "/dev/stdin:N:"), else 0; `lineText` is that line of our script. The previous ruleset is still in place.
 */
export class FirewallError extends Error {
  override readonly name = 'FirewallError';
  constructor(
    readonly backend: BackendName,
    /** The command, e.g. ['ip', 'netns', 'exec', 'ns1', 'iptables-restore', '--noflush', '-w']. */
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly line: number,
    readonly lineText: string,
    readonly stderr: string,
  ) {
    const where = line > 0 ? ` line ${line} (${lineText})` : '';
    super(`${backend}: ${command.join(' ')} failed${exitCode === null ? '' : ` (exit ${exitCode})`}${where}: ${stderr.trim()}`);
  }
}
