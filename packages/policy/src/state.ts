/** What policy observes in the kernel (through @meshwan/netlink) and wants there. */
import type { RouteCache, Rule } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import type { Route } from './model.js';

export interface Link {
  readonly name: string;
  readonly ifindex: number;
  /** IFF_UP. */
  readonly up: boolean;
}

export interface Address {
  readonly dev: string;
  readonly family: IpFamily;
  /** As netlink reports it (canonical text), so a rule made from it is what the kernel will dump. */
  readonly address: string;
  readonly len: number;
}

export interface KernelState {
  readonly links: readonly Link[];
  readonly addresses: readonly Address[];
  readonly rules: readonly Rule[];
  readonly routes: readonly Route[];
  /** The same objects, as @meshwan/netlink's RouteCache: where `check` asks which way the kernel sends a packet. */
  readonly cache: RouteCache;
}

/** The WAN split the node's uci holds (network.wan6_lookup's mark and lookup, through @meshwan/site readSettings). */
export interface SplitParams {
  readonly mark: number;
  readonly mask: number;
  readonly table: number;
}
