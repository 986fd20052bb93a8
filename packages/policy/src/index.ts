/**
 * @packageDocumentation
 * @meshwan/policy: the reconciler. Reads the uci network config, derives the rules and routes netifd would
 * install plus meshwan's gate, and makes the kernel and the firewall match, touching only what it owns.
 */
export const packageName = '@meshwan/policy';
export { type Desired, deriveDesired, GATE_PRIORITY, type Observed } from './desired.js';
export { ApplyError, ConfigError, UsageError } from './errors.js';
export { type Finding, type FindingCode, routingFindings } from './findings.js';
export { formatAddress, formatPrefix, type Prefix, parseAddress, parsePrefix } from './ip.js';
export { formatRoute, formatRule, newRule, type Route, RTPROT_MESHWAN, routeKey, ruleKey } from './model.js';
export { type NetworkConfig, parseNetwork, parseTableNames } from './network.js';
export { ownsRule, type Plan, planChanges, type Step } from './plan.js';
export type { Address, KernelState, Link, SplitParams } from './state.js';
export type { UciSectionInput } from './uci-input.js';
export {
  assessUplinks,
  type ManagedUplink,
  noUplinks,
  readUplinksReport,
  type UplinksReport,
  type UplinksState,
  type UplinksView,
  uplinksView,
  uplinksViewOf,
} from './uplinks.js';
