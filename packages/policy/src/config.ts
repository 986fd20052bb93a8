/**
 * Finds and reads what policy needs from a root directory: the site (through @meshwan/site), /etc/config/network
 * (through @meshwan/uci, committed state only, as netifd reads it) and /etc/iproute2/rt_tables. `--root` (or
 * $MESHWAN_ROOT) lets tests use a staged tree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSite, type Site } from '@meshwan/site';
import { parseUci } from '@meshwan/uci';
import { ConfigError } from './errors.js';
import { type NetworkConfig, parseNetwork, parseTableNames, type TableNames } from './network.js';
import type { SplitParams } from './state.js';
import { sectionsOf } from './uci-input.js';

import { loadUplinksView, UPLINKS_CONFIG, UPLINKS_STATUS_FILE, type UplinksView } from './uplinks.js';

export interface Paths {
  readonly root: string;
  readonly network: string;
  readonly rtTables: string;
  /** Where the daemon records its last repairs for `meshwan status`. */
  readonly stateDir: string;
  readonly site?: string;
  /** /etc/config/meshwan-uplinks: when it has an enabled interface, the WAN default is the uplinks daemon's */
  readonly uplinksConfig: string;
  /** the uplinks daemon's status file (`--uplinks-status FILE`) */
  readonly uplinksStatus: string;
}

export function resolvePaths(root = process.env.MESHWAN_ROOT ?? '/', uplinksStatus?: string): Paths {
  const siteInRoot = join(root, 'lib/gluon/site.ini');
  const site = process.env.MESHWAN_SITE ?? (existsSync(siteInRoot) ? siteInRoot : undefined);
  return {
    root,
    network: join(root, 'etc/config/network'),
    rtTables: join(root, 'etc/iproute2/rt_tables'),
    stateDir: process.env.MESHWAN_STATE_DIR ?? join(root, 'var/run/meshwan'),
    uplinksConfig: join(root, 'etc/config', UPLINKS_CONFIG),
    uplinksStatus: uplinksStatus ?? join(root, UPLINKS_STATUS_FILE),
    ...(site !== undefined ? { site } : {}),
  };
}

export interface Context {
  readonly paths: Paths;
  readonly site: Site;
  readonly split: SplitParams;
  readonly network: NetworkConfig;
  readonly uplinks: UplinksView;
}

function readTables(path: string): TableNames {
  try {
    return parseTableNames(readFileSync(path, 'utf8'));
  } catch {
    return new Map(); // no rt_tables: numbers and main/local/default still resolve
  }
}

/** Reads the site and the network config. Throws SiteErrors, UciParseError or ConfigError (unreadable file). */
export function loadContext(paths: Paths): Context {
  const site = loadSite(paths.site);
  let bytes: Buffer;
  try {
    bytes = readFileSync(paths.network);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(paths.network, '', '', `cannot read: ${code}`);
  }
  const pkg = parseUci(bytes, { file: paths.network, package: 'network' });
  const network = parseNetwork(sectionsOf(pkg), paths.network, readTables(paths.rtTables));
  const uplinks = loadUplinksView(paths.uplinksConfig);
  return { paths, site, split: { mark: site.wan.mark, mask: site.wan.mask, table: site.wan.table }, network, uplinks };
}
