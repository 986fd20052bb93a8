// tier: root: network namespaces, SO_MARK or firewall rules
/** Shared setup for this package's netns tests: a namespace with a veth pair inside it and a socket there. */
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The repository's root. */
export const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** Bundles `entry` (of this package) with mk/bundle.mjs for `engine` into `dir`, as a command ships; returns the file. */
export async function bundle(engine: 'node' | 'quickjs', dir: string, entry = 'src/main.ts'): Promise<string> {
  const loaded: unknown = await import(join(root, 'mk', 'bundle.mjs'));
  const bundleFor: unknown = loaded && typeof loaded === 'object' ? Reflect.get(loaded, 'bundleFor') : undefined;
  if (typeof bundleFor !== 'function') throw new Error('mk/bundle.mjs does not export bundleFor');
  const out = join(dir, `${entry.replace(/\W/g, '_')}.${engine}.mjs`);
  // a Node bundle finds netio.node beside it, as mk/stage.mjs installs it
  if (engine === 'node') copyFileSync(join(root, 'packages/os/build/netio.node'), join(dir, 'netio.node'));
  await bundleFor(join(root, 'packages/netlink', entry), out, engine);
  return out;
}

/** `ip route` text as the CLI tests compare it: lines right-trimmed, link-local and multicast routes (which come
 * and go as the veth pair's addresses do) left out. */
export const norm = (s: string): string =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !/ (fe80|ff00)::/.test(l))
    .join('\n');
