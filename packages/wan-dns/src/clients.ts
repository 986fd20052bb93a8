/**
 * Which clients may ask: this node only, unless --allow-remote. That is loopback, and also the node's own
 * addresses: the firewall's redirect of the mesh-VPN group's DNS (nat OUTPUT, REDIRECT to :54) keeps the
 * source address the route chose (e.g. the mesh interface's), so such a query arrives from a local address
 * that is not 127.0.0.1. The set of local addresses is re-read at most once a second, on a miss.
 */
import { Netlink } from '@meshwan/netlink';

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

export class LocalClients {
  private local = new Set<string>();
  private readAtMs = -Infinity;

  constructor(readonly allowRemote: boolean) {}

  /** True when a query from `address` may be answered. */
  allowed(address: string): boolean {
    if (this.allowRemote || isLoopback(address) || this.local.has(address)) return true;
    const now = performance.now();
    if (now - this.readAtMs < 1000) return false;
    this.readAtMs = now;
    this.local = localAddresses();
    return this.local.has(address);
  }
}

/**
 * Every address of this host's interfaces, as the listeners report senders (IPv4 also v4-mapped, link-local with
 * %dev), from an rtnetlink dump; none when netlink cannot be opened (then only loopback is a local client).
 */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  let nl: Netlink | undefined;
  try {
    nl = Netlink.open({ timeoutMs: 1000 });
    const names = new Map(nl.listLinks().map((l) => [l.index, l.name]));
    for (const a of nl.listAddresses()) {
      out.add(a.address);
      if (!a.address.includes(':')) out.add(`::ffff:${a.address}`);
      else if (a.address.startsWith('fe80:')) out.add(`${a.address}%${names.get(a.index) ?? a.index}`);
    }
  } catch {
    // Fail closed: an unreadable address list admits loopback only.
  } finally {
    nl?.close();
  }
  return out;
}
