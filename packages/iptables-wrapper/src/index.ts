/**
 * @packageDocumentation
 * @meshwan/iptables-wrapper: firewall rules as typed data, applied atomically with iptables-restore or nft, in
 * chains meshwan owns. The only meshwan package that runs iptables or nft.
 */
export { type DetectOptions, detectBackend, fw4Paths, type Probe, systemProbe } from './detect.js';
export { type DnsRedirectOptions, dnsRedirectRules, dnsRedirectRuleset } from './dns-redirect.js';
export { type Drift, type DriftKind, type DriftReport, driftFamily } from './drift.js';
export { DryRunBackend, type DryRunOptions } from './dry-run.js';
export { type BackendName, FirewallError, RuleError, RulesetError } from './errors.js';
export type { ApplyResult, BackendOptions, Firewall } from './firewall.js';
export { ruleId } from './identity.js';
export { IptablesBackend, type IptablesOptions } from './iptables.js';
export { hookChain, ruleCommand, ruleLine } from './iptables-rules.js';
export { NftBackend } from './nft.js';
export { nftChain } from './nft-chains.js';
export { nftRule, nftScript } from './nft-rules.js';
export * from './types.js';
export { checkRuleset, type ValidateFor, validate } from './validate.js';
