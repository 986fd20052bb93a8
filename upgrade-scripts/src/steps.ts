/**
 * The bodies of the upgrade scripts, one function each, called by the entries in src/upgrade/. Each describes an
 * end state (never "is this the first run?"), stages uci edits, and leaves committing to 990-meshwan-commit.
 */
import { files } from '@meshwan/os';
import { ensureGroup, ensureShadow, ensureUser, findUser, freeId } from './accounts.js';
import type { Context } from './context.js';
import { fileExists, readText, writeTextAtomic } from './files.js';
import { planFirewall } from './firewall.js';
import { planNetwork } from './network.js';
import { planSettings, SETTINGS_PACKAGE } from './settings.js';
import type { ConfigStore } from './store.js';
import { planWanDns } from './wan-dns.js';

/** 105-meshwan-settings. */
export function upgradeSettings(ctx: Context, store: ConfigStore): void {
  store.stage(SETTINGS_PACKAGE, planSettings(store.load(SETTINGS_PACKAGE) ?? [], ctx.site));
}

/** 111-meshwan-network. */
export function upgradeNetwork(ctx: Context, store: ConfigStore): void {
  const sections = store.load('network') ?? [];
  const old = store.load('network_gluon-old');
  store.stage('network', planNetwork(sections, old !== undefined && old.length > 0 ? old : undefined, ctx.site));
}

/** The forwarder's own user: wan-dns runs unprivileged, keeping only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE. */
const wanDnsUser = 'wan-dns';
/** Preferred uid/gid (OpenWrt's base-files use 55 for ftp and 453 for dnsmasq; 54 is the port it listens on). */
const wanDnsPreferredId = 54;

/** 160-meshwan-wan-dns. */
export function upgradeWanDns(ctx: Context, store: ConfigStore): void {
  store.stage('gluon-wan-dnsmasq', planWanDns(store.load('gluon-wan-dnsmasq') ?? [], ctx.site));
  const passwdPath = ctx.path('/etc/passwd');
  const groupPath = ctx.path('/etc/group');
  const passwd = readText(passwdPath);
  const group = readText(groupPath);
  const existing = findUser(passwd, wanDnsUser);
  const id = existing?.gid ?? freeId(passwd, group, wanDnsPreferredId);
  writeTextAtomic(groupPath, ensureGroup(group, groupPath, wanDnsUser, id));
  writeTextAtomic(passwdPath, ensureUser(passwd, wanDnsUser, existing?.uid ?? id, id, '/var/run/wan-dns'));
  const shadowPath = ctx.path('/etc/shadow');
  if (fileExists(shadowPath)) writeTextAtomic(shadowPath, ensureShadow(readText(shadowPath), wanDnsUser), 0o600);
}

/** 410-meshwan-mesh-vpn. */
export function upgradeMeshVpn(ctx: Context, store: ConfigStore): void {
  const groupPath = ctx.path('/etc/group');
  writeTextAtomic(groupPath, ensureGroup(readText(groupPath), groupPath, ctx.site.meshVpn.group, ctx.site.meshVpn.gid));
  store.stage(
    'firewall',
    planFirewall(store.load('firewall') ?? [], (path) => fileExists(ctx.path(path))),
  );
}

/**
 * 990-meshwan-commit: one commit of everything staged, then the network_gluon-old copies go (Gluon's 998-commit),
 * unless Gluon's own 998-commit is in this firmware and will do it after the remaining Gluon scripts.
 */
export function commitStaged(ctx: Context, store: ConfigStore): string[] {
  const committed = store.commitAll();
  if (!fileExists(ctx.path('/lib/gluon/upgrade/998-commit'))) {
    for (const name of files.list(ctx.confdir).filter((n) => n.endsWith('_gluon-old'))) files.remove(`${ctx.confdir}/${name}`);
  }
  return committed;
}
