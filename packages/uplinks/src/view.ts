/**
 * What `meshwan check` and `status` read of meshwan-uplinks (its config, its status file and how fresh it is),
 * engine-free: policy imports this, not the daemon's probes and sockets, so its QuickJS bundle holds no more.
 */
export {
  CONFIG_PACKAGE,
  defaultGlobals,
  type GlobalsConfig,
  parseConfig,
  probeMark,
  type SectionLike,
  type UplinkConfig,
  type UplinksConfig,
} from './config.js';
export { UplinksConfigError } from './errors.js';
export { type Freshness, judgeStatusFile, pidAlive } from './freshness.js';
export { renderStatus, type StatusFile } from './render.js';
