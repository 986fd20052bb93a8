/**
 * @packageDocumentation
 * @meshwan/uplinks: route-aware WAN. Health per uplink from carrier and marked probes with hysteresis, a chooser
 * (best healthy uplink or weighted multipath), and a reconciler that keeps the WAN table's default, the WAN DNS
 * host routes and the last-good default in step.
 */
export { type Candidate, type Choice, type ChosenMember, choose, sameChoice } from './chooser.js';
export {
  CONFIG_PACKAGE,
  defaultGlobals,
  type GlobalsConfig,
  loadConfig,
  parseConfig,
  probeMark,
  RTPROT_UPLINKS,
  type SectionLike,
  type TrackMethod,
  type UplinkConfig,
  type UplinksConfig,
} from './config.js';
export { type DaemonOptions, type RunningDaemon, startDaemon } from './daemon.js';
export {
  type Desired,
  type DesiredInput,
  desiredState,
  probeTable,
  type UplinkRuntime,
  type WantedRoute,
  type WantedRule,
} from './desired.js';
export { assignDns, parseResolv } from './dns.js';
export { type DnsProbeRequest, runDnsProbe } from './dnsprobe.js';
export { checkQueryName, DNS_TYPES, encodeQuery, type Judgement, judgeAnswer } from './dnswire.js';
export { Engine, type EngineOptions, learnGateway, type Probers, type RestoreReport, type Status, type UplinkStatus } from './engine.js';
export { ProbeError, StateFileError, UplinksConfigError } from './errors.js';
export { type Freshness, judgeStatusFile, pidAlive, STALE_INTERVALS, STALE_MIN_MS } from './freshness.js';
export {
  applyCarrier,
  applyProbe,
  applyRestored,
  type Health,
  type HealthState,
  type Hysteresis,
  initialHealth,
  roundOk,
} from './health.js';
export { type ApplyResult, applyDesired, describeRoute } from './kernel.js';
export { decodeLastGood, type LastGood, type LastGoodMember, readLastGood, writeLastGood } from './lastgood.js';
export { type ProbeRequest, type ProbeResult, parsePingOutput, probeCommand, runProbe } from './probe.js';
export { renderStatus, type StatusFile, type StatusWriter, statusWriter } from './render.js';
export { RoundSequencer } from './rounds.js';
