// The namespace both netlink benchmarks dump: a veth pair va/vb with 2001:db8::1/64, and `count` IPv6 /64 routes
// via 2001:db8::2, alternately in tables 1 and main, metrics 0-6 (one `ip -batch`). Deleted when the process exits.
import { spawnSync } from 'node:child_process';

/** Runs a command to completion; throws with its stderr on a non-zero exit. Returns stdout. */
export function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 512 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The i-th route's destination: distinct /64s under 2001:db8::/32. */
export const prefix = (i) =>
  `2001:db8:${(i >> 16).toString(16)}${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16)}::/64`;

/** Creates namespace `ns` with the veth pair and `count` routes; `cleanup` also runs at exit. */
export function routesNamespace(ns, count, cleanup = () => {}) {
  process.on('exit', () => {
    spawnSync('ip', ['netns', 'del', ns]);
    cleanup();
  });
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
  sh('ip', ['-n', ns, 'link', 'set', 'va', 'up']);
  sh('ip', ['-n', ns, 'link', 'set', 'vb', 'up']);
  sh('ip', ['-n', ns, '-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'va', 'nodad']);
  const batch = [];
  for (let i = 0; i < count; i++) batch.push(`route add ${prefix(i)} via 2001:db8::2 table ${i % 2 ? 1 : 254} metric ${i % 7}`);
  sh('ip', ['-6', '-n', ns, '-batch', '-'], `${batch.join('\n')}\n`);
}
