// tier: root: network namespaces, SO_MARK or firewall rules
/** Shared setup for this package's netns tests: a namespace with a veth pair inside it and a socket there. */
import { createNamespace, isRoot, type Namespace, type Teardowns } from '../../../test/lib/netns.js';
import { Netlink } from '../src/index.js';

const canRun = isRoot();
export const missingPart = canRun ? false : 'needs root for network namespaces';

export interface Fixture {
  ns: Namespace;
  nl: Netlink;
  netnsPath: string;
}

/** A namespace with veth pair va/vb (both up), addresses 2001:db8::1/64, 192.0.2.1/24 on va, and a socket in it. */
export function fixture(t: Teardowns, label: string): Fixture {
  const ns = createNamespace(t, label);
  ns.ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  ns.ip('link', 'set', 'va', 'up');
  ns.ip('link', 'set', 'vb', 'up');
  ns.ip('-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'va', 'nodad');
  ns.ip('addr', 'add', '192.0.2.1/24', 'dev', 'va');
  const netnsPath = `/run/netns/${ns.name}`;
  const nl = Netlink.open({ netns: netnsPath });
  t.teardown(() => nl.close());
  return { ns, nl, netnsPath };
}
