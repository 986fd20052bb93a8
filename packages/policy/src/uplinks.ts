/**
 * What policy needs to know of @meshwan/uplinks. When /etc/config/meshwan-uplinks has an enabled interface, its
 * daemon owns the WAN table's default (proto 78): policy must not keep another default of the same device there,
 * or that route would outlive the daemon's choice when every uplink is down and the WAN table would not fail
 * closed. Policy also needs the daemon's objects (probe tables and rules) to recognise them as legitimate, and the
 * daemon's status file for `meshwan status`.
 */
import { files, type IpFamily } from '@meshwan/os';
import { sectionsIfPresent, type Uci } from '@meshwan/uci';
import {
  CONFIG_PACKAGE,
  defaultGlobals,
  judgeStatusFile,
  parseConfig,
  pidAlive,
  probeMark,
  type SectionLike,
  type StatusFile,
  UplinksConfigError,
} from '@meshwan/uplinks/view';
import { sectionsOf } from './uci-input.js';

export const UPLINKS_CONFIG = CONFIG_PACKAGE;
/** Where `meshwan-uplinks daemon` writes its status (packages/uplinks cli.ts defaultStatusFile). */
export const UPLINKS_STATUS_FILE = 'var/run/meshwan-uplinks.json';

export interface ManagedUplink {
  readonly name: string;
  readonly device: string;
  readonly family: IpFamily;
  /** the uplink's probe table (probe_table_base + its index among the interface sections) */
  readonly probeTable: number;
  readonly probeMark: number;
  readonly probeMask: number;
}

export interface UplinksView {
  /** at least one enabled interface: the uplinks daemon owns the WAN default of its devices */
  readonly configured: boolean;
  /** rtm_protocol of the daemon's routes and rules (78) */
  readonly protocol: number;
  readonly probePriority: number;
  /** the enabled uplinks */
  readonly uplinks: readonly ManagedUplink[];
  /**
   * every interface section's probe table, enabled or not: a WAN default parked in one whose uplink is no longer
   * enabled goes back to the WAN table
   */
  readonly parking: readonly ManagedUplink[];
  /** the config could not be used: meshwan-uplinks refuses to start, so policy behaves as without it */
  readonly error?: string;
}

export const noUplinks: UplinksView = {
  configured: false,
  protocol: defaultGlobals.protocol,
  probePriority: defaultGlobals.probePriority,
  uplinks: [],
  parking: [],
};

/** The view from uci sections (pure). A config uplinks rejects counts as not configured, with the error kept. */
export function uplinksView(sections: readonly SectionLike[], file: string): UplinksView {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(sections, file);
  } catch (err: unknown) {
    if (!(err instanceof UplinksConfigError)) throw err;
    return { ...noUplinks, error: err.message };
  }
  const parking: ManagedUplink[] = [];
  const uplinks: ManagedUplink[] = [];
  config.uplinks.forEach((u, index) => {
    const { mark, mask } = probeMark(config.globals, index);
    const managed: ManagedUplink = {
      name: u.name,
      device: u.device,
      family: u.family,
      probeTable: config.globals.probeTableBase + index,
      probeMark: mark,
      probeMask: mask,
    };
    parking.push(managed);
    if (u.enabled) uplinks.push(managed);
  });
  return {
    configured: uplinks.length > 0,
    protocol: config.globals.protocol,
    probePriority: config.globals.probePriority,
    uplinks,
    parking,
  };
}

/** ROOT/etc/config/meshwan-uplinks with its staged changes; a missing file is "not configured", an unusable one an error view. */
export function uplinksViewOf(uci: Uci, file: string): UplinksView {
  try {
    const sections = sectionsIfPresent(uci, UPLINKS_CONFIG);
    return sections === undefined ? noUplinks : uplinksView(sectionsOf(sections), file);
  } catch (err: unknown) {
    return { ...noUplinks, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The uplink that owns the default of this device and family, if any. */
export function managedUplink(view: UplinksView, dev: string | undefined, family: IpFamily): ManagedUplink | undefined {
  if (!view.configured || dev === undefined) return undefined;
  return view.uplinks.find((u) => u.device === dev && u.family === family);
}

export type UplinksState = 'not-configured' | 'not-running' | 'stale' | 'running';

export interface UplinksReport {
  readonly state: UplinksState;
  /** one line: why the state is what it is */
  readonly summary: string;
  readonly file: string;
  /** seconds since the daemon last wrote the file */
  readonly ageSeconds?: number;
  /** the daemon's last status, also when stale */
  readonly status?: StatusFile;
  /** the uplinks config could not be used */
  readonly configError?: string;
}

export interface StatusInput {
  readonly view: UplinksView;
  readonly file: string;
  /** the file's text; undefined when it does not exist */
  readonly text: string | undefined;
  readonly now: Date;
  /** whether a process with this pid exists */
  readonly alive: (pid: number) => boolean;
}

/** Judges the uplinks status file (pure): missing, stale (old or its writer gone) or running. */
export function assessUplinks(input: StatusInput): UplinksReport {
  const { view, file, text, now } = input;
  const base = { file, ...(view.error !== undefined ? { configError: view.error } : {}) };
  if (text === undefined) {
    if (!view.configured) {
      const why =
        view.error !== undefined ? `its config is unusable (${view.error})` : `no enabled interface in /etc/config/${UPLINKS_CONFIG}`;
      return { ...base, state: 'not-configured', summary: `not configured: ${why}; the WAN default is netifd's, moved by meshwan` };
    }
    return { ...base, state: 'not-running', summary: `NOT running: no ${file} (start it: /etc/init.d/meshwan-uplinks start)` };
  }
  let status: StatusFile;
  try {
    status = JSON.parse(text) as StatusFile;
    if (typeof status !== 'object' || status === null || !Array.isArray(status.uplinks)) throw new Error('not a status object');
  } catch (err: unknown) {
    return {
      ...base,
      state: 'stale',
      summary: `STALE: ${file} is not a status file (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  const freshness = judgeStatusFile(status, now, input.alive);
  const withAge = { ...base, status, ...(freshness.ageSeconds !== undefined ? { ageSeconds: freshness.ageSeconds } : {}) };
  if (!freshness.fresh) return { ...withAge, state: 'stale', summary: freshness.summary };
  const note = view.configured ? '' : ' (but no enabled interface in its config now)';
  return { ...withAge, state: 'running', summary: `${freshness.summary}${note}` };
}

/** Reads and judges the status file. */
export function readUplinksReport(view: UplinksView, file: string, now = new Date()): UplinksReport {
  let text: string | undefined;
  try {
    text = files.readText(file);
  } catch {
    text = undefined;
  }
  return assessUplinks({ view, file, text, now, alive: pidAlive });
}
