/**
 * Picks the backend for this node: the site's `firewall.backend` when it is not `auto`; else nft when fw4 is
 * installed (OpenWrt 22.03+, whose own rules are nftables) or when nft is the only tool; else iptables, in the
 * variant `iptables -V` reports ("(nf_tables)" or "(legacy)").
 */
import { files, programs } from '@meshwan/os';
import { FirewallError } from './errors.js';
import type { Firewall } from './firewall.js';
import { IptablesBackend } from './iptables.js';
import { NftBackend } from './nft.js';

/** What the system has; injectable so detection is testable without changing the machine. */
export interface Probe {
  commandExists(name: string): boolean;
  fileExists(path: string): boolean;
  /** `iptables -V` output, or undefined when it cannot run. */
  iptablesVersion(): string | undefined;
}

export const systemProbe: Probe = {
  commandExists: (name) => programs.which(name) !== undefined,
  fileExists: (path) => files.exists(path),
  iptablesVersion: () => {
    if (programs.which('iptables') === undefined) return undefined;
    const r = programs.runSync(['iptables', '-V']);
    return r.code === 0 ? r.stdout.trim() : undefined;
  },
};

export interface DetectOptions {
  /** site.ini `[firewall] backend`: auto, iptables or nft. */
  readonly override?: 'auto' | 'iptables' | 'nft';
  readonly netns?: string;
  readonly probe?: Probe;
}

/** fw4's program and its ruleset template (openwrt/firewall4). */
export const fw4Paths = ['/sbin/fw4', '/usr/share/firewall4'];

/** Which iptables tools exist: the plain names (variant from `iptables -V`), else one variant's own names. */
function iptablesTools(probe: Probe): { variant: 'nft' | 'legacy'; plainNames: boolean } | undefined {
  const has = (variant: string) => probe.commandExists(`iptables${variant}-restore`) && probe.commandExists(`ip6tables${variant}-restore`);
  if (has('')) return { variant: /nf_tables/.test(probe.iptablesVersion() ?? '') ? 'nft' : 'legacy', plainNames: true };
  if (has('-nft')) return { variant: 'nft', plainNames: false };
  if (has('-legacy')) return { variant: 'legacy', plainNames: false };
  return undefined;
}

function noBackend(what: string): FirewallError {
  return new FirewallError('nft', ['detectBackend'], null, 0, '', `${what} found in PATH`);
}

/** Thrown (as FirewallError with backend 'nft', exit null) when the tools the choice needs are not installed. */
export function detectBackend(options: DetectOptions = {}): Firewall {
  const probe = options.probe ?? systemProbe;
  const netns = options.netns === undefined ? {} : { netns: options.netns };
  const override = options.override ?? 'auto';
  if (override === 'nft') return new NftBackend(netns);
  const tools = iptablesTools(probe);
  if (override === 'iptables') {
    if (!tools) throw noBackend('backend iptables: no iptables-restore/ip6tables-restore (plain, -nft or -legacy)');
    return new IptablesBackend({ ...tools, ...netns });
  }
  const hasNft = probe.commandExists('nft');
  if (hasNft && (fw4Paths.some((p) => probe.fileExists(p)) || !tools)) return new NftBackend(netns);
  if (tools) return new IptablesBackend({ ...tools, ...netns });
  throw noBackend('neither nft nor iptables-restore/ip6tables-restore');
}
