/**
 * @packageDocumentation
 * @meshwan/upgrade-scripts: the numbered scripts run on flash (Gluon's /lib/gluon/upgrade) that bring a node's
 * config to meshwan's end state, the pure planners behind them, and the runner meshwan-reconfigure.
 */
export { ensureGroup, ensureShadow, ensureUser, findUser, freeId } from './accounts.js';
export { applyEdits, type Edit, ownSection, type SectionView, shareSection, type Value } from './config.js';
export { type Context, contextFor, contextFromEnv, siteFor } from './context.js';
export { UpgradeError, UsageError } from './errors.js';
export { firewallIncludePath, planFirewall } from './firewall.js';
export { formatMark, parseMark, parseNumber } from './marks.js';
export { planNetwork } from './network.js';
export { listScripts, runScripts, type ScriptResult } from './reconfigure.js';
export { planSettings } from './settings.js';
export { commitStaged, upgradeMeshVpn, upgradeNetwork, upgradeSettings, upgradeWanDns } from './steps.js';
export type { ConfigStore } from './store.js';
export { planWanDns } from './wan-dns.js';
