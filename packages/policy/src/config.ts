/**
 * Finds and reads what policy needs from a root directory: the node's settings, /etc/config/network and
 * /etc/config/meshwan-uplinks (all through @meshwan/uci's openConfig: committed config plus the changes staged
 * in ROOT/tmp/.uci, the view netifd and procd's config_load get) and /etc/iproute2/rt_tables. Nothing here reads
 * site.ini: at run time uci is the only truth. `--root` (or $MESHWAN_ROOT) moves every path, the save dir included.
 */

import { files, proc } from '@meshwan/os';
import { type NodeSettings, readSettings, SETTINGS_PACKAGE } from '@meshwan/site';
import { configPaths, openConfig, sectionsIfPresent } from '@meshwan/uci';
import { ConfigError } from './errors.js';
import { type NetworkConfig, parseNetwork, parseTableNames, type TableNames } from './network.js';
import { joinPath as join } from './path.js';
import type { SplitParams } from './state.js';
import { sectionsOf } from './uci-input.js';
import { UPLINKS_CONFIG, UPLINKS_STATUS_FILE, type UplinksView, uplinksViewOf } from './uplinks.js';

export interface Paths {
  readonly root: string;
  /** ROOT/etc/config/network, for messages (its staged changes count too) */
  readonly network: string;
  readonly rtTables: string;
  /** Where the daemon records its last repairs for `meshwan status`. */
  readonly stateDir: string;
  /** /etc/config/meshwan-uplinks: when it has an enabled interface, the WAN default is the uplinks daemon's */
  readonly uplinksConfig: string;
  /** the uplinks daemon's status file (`--uplinks-status FILE`) */
  readonly uplinksStatus: string;
  /** The config files and staged-change files a change of which makes the daemon re-read its config. */
  readonly watched: readonly string[];
}

export function resolvePaths(root = proc.env('MESHWAN_ROOT') ?? '/', uplinksStatus?: string): Paths {
  const { confdir, savedir } = configPaths(root);
  const packages = ['network', UPLINKS_CONFIG, SETTINGS_PACKAGE];
  return {
    root,
    network: join(confdir, 'network'),
    rtTables: join(root, 'etc/iproute2/rt_tables'),
    stateDir: proc.env('MESHWAN_STATE_DIR') ?? join(root, 'var/run/meshwan'),
    uplinksConfig: join(confdir, UPLINKS_CONFIG),
    uplinksStatus: uplinksStatus ?? join(root, UPLINKS_STATUS_FILE),
    watched: packages.flatMap((p) => [join(confdir, p), join(savedir, p)]),
  };
}

export interface Context {
  readonly paths: Paths;
  readonly settings: NodeSettings;
  readonly split: SplitParams;
  readonly network: NetworkConfig;
  readonly uplinks: UplinksView;
}

function readTables(path: string): TableNames {
  try {
    return parseTableNames(files.readText(path));
  } catch {
    return new Map(); // no rt_tables: numbers and main/local/default still resolve
  }
}

/** Reads the settings and the network config. Throws SettingsError, UciParseError or ConfigError (no network config). */
export function loadContext(paths: Paths): Context {
  const uci = openConfig({ root: paths.root });
  const settings = readSettings(uci);
  const sections = sectionsIfPresent(uci, 'network');
  if (sections === undefined) throw new ConfigError(paths.network, '', '', 'cannot read: ENOENT');
  const network = parseNetwork(sectionsOf(sections), paths.network, readTables(paths.rtTables));
  const uplinks = uplinksViewOf(uci, paths.uplinksConfig);
  const { mark, mask, table } = settings.wan;
  return { paths, settings, split: { mark, mask, table }, network, uplinks };
}
