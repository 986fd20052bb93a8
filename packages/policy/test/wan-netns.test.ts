// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * meshwan-wan as the router runs it: src/wan-main.ts bundled for QuickJS, compiled to bytecode and run by
 * meshwan-js, here and for big-endian MIPS under qemu-user, in a node's namespace; and Node's entry (dist), which
 * emulates the exec. On meshwan-js the command IS the process: the pid `ip netns exec` was started with (it and
 * qemu-user exec in place too), in the mesh-VPN group from the node's uci, its sockets marked by lib-packetmark.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { digSync } from '../../../test/lib/dig.js';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bundleEntry, type Ran, type Runtime, runBundle, scratch } from '../../os/test/lib/seam.js';
import { startForwarder } from './lib/forwarder.js';
import { createNode, meshwan, type TestNode } from './lib/node.js';

requireParts(isRoot() ? false : 'needs root for network namespaces');
t.setTimeout(300_000);

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const libpacketmark = join(root, 'lib-packetmark/build/libpacketmark.so');
const markprobe = join(root, 'lib-packetmark/build/markprobe');
requireParts(existsSync(libpacketmark) && existsSync(markprobe) ? false : 'lib-packetmark is not built (make -C lib-packetmark)');

const runtimes: Runtime[] = ['host', 'mips_24kc', 'node'];
const dir = scratch(t);
const entries = new Map<Runtime, string>();
for (const runtime of runtimes)
  entries.set(
    runtime,
    runtime === 'node'
      ? join(root, 'packages/policy/dist/wan-main.js')
      : await bundleEntry(join(root, 'packages/policy/src/wan-main.ts'), runtime, dir),
  );

function wan(n: TestNode, runtime: Runtime, ...args: string[]): Promise<Ran> {
  return runBundle(
    entries.get(runtime) ?? '',
    runtime,
    args,
    { MESHWAN_ROOT: n.root, MESHWAN_LIBPACKETMARK: libpacketmark, LD_PRELOAD: '' },
    ['ip', 'netns', 'exec', n.node.name],
  );
}

t.test('meshwan-wan on every engine: the VPN group, marked sockets, exec semantics, exit codes', async (t) => {
  const n = createNode(t);
  t.equal(meshwan(n, ['apply']).status, 0);
  for (const runtime of runtimes) {
    await t.test(runtime, async (t) => {
      const inPlace = runtime !== 'node';
      const who = await wan(n, runtime, 'sh', '-c', 'echo "$$ $(id -g) $(id -G)"; grep -E "^(Gid|Groups):" /proc/self/status');
      t.equal(who.status, 0, who.stderr);
      const [pid, ...rest] = who.stdout.split(/\s+/);
      if (inPlace) t.equal(Number(pid), who.pid, 'the command has the pid that was started: an exec in place');
      else t.not(Number(pid), who.pid, 'Node runs the command as its child');
      t.same(rest.slice(0, 2), ['800', '800'], 'gid 800 and no other group');
      t.match(
        who.stdout,
        /^Gid:\t800\t800\t800\t800\nGroups:\t ?\n/m,
        '/proc/self/status: real, effective, saved, fs gid 800; no supplementary groups',
      );

      const mark = await wan(n, runtime, markprobe, 'inet:udp', 'inet6:tcp');
      t.equal(mark.stdout, 'inet:udp fd=3 mark=0x1 errno=EDOM\ninet6:tcp fd=4 mark=0x1 errno=EDOM\n', `SO_MARK read back (${mark.stderr})`);
      const env = await wan(n, runtime, 'sh', '-c', 'echo "$LIBPACKETMARK_MARK $LD_PRELOAD $MESHWAN_ROOT"');
      t.equal(env.stdout.trim(), `0x1 ${libpacketmark} ${n.root}`, 'the mark and the library added, the rest of the environment kept');

      t.equal((await wan(n, runtime, 'sh', '-c', 'exit 7')).status, 7);
      const killed = await wan(n, runtime, 'sh', '-c', 'kill -TERM $$');
      if (inPlace) t.same([killed.status, killed.signal], [null, 'SIGTERM'], 'dies of the signal that killed the command');
      else t.ok(killed.signal === 'SIGTERM' || killed.status === 143, 'dies of the signal that killed the command (or 128+15)');

      const missing = await wan(n, runtime, 'no-such-command-here');
      t.same([missing.status, missing.stderr], [127, 'meshwan-wan: no-such-command-here: command not found\n']);
      const notExecutable = join(n.root, 'not-executable');
      writeFileSync(notExecutable, 'echo never\n', { mode: 0o644 });
      const denied = await wan(n, runtime, notExecutable);
      t.same([denied.status, denied.stderr], [126, `meshwan-wan: ${notExecutable}: execvp ${notExecutable}: EACCES\n`]);
      const usage = await wan(n, runtime);
      t.same([usage.status, usage.stderr], [2, 'usage: meshwan-wan CMD [ARGS...]\n']);
      t.equal((await wan(n, runtime, '--help')).status, 0);
    });
  }
});

t.test("the group and the mark come from the node's uci; a bad setting exits 1 naming it", async (t) => {
  const n = createNode(t);
  writeFileSync(join(n.root, 'etc/config/meshwan'), "config mesh_vpn 'mesh_vpn'\n\toption gid '801'\n");
  for (const runtime of runtimes) {
    const who = await wan(n, runtime, 'id', '-g');
    t.equal(who.stdout.trim(), '801', `${runtime}: gid from /etc/config/meshwan (${who.stderr})`);
  }
  writeFileSync(join(n.root, 'etc/config/meshwan'), "config mesh_vpn 'mesh_vpn'\n\toption gid 'eight hundred'\n");
  for (const runtime of runtimes) {
    const bad = await wan(n, runtime, 'true');
    t.equal(bad.status, 1, runtime);
    t.match(bad.stderr, /^meshwan-wan: .*mesh_vpn\.gid/, `${runtime}: names the option`);
  }
});

t.test('a marked lookup reaches the forwarder through table 1 (meshwan-js)', async (t) => {
  const n = createNode(t);
  t.equal(meshwan(n, ['apply']).status, 0);
  await startForwarder(t, n.node);
  // No mesh route: an unmarked socket cannot even get to nat OUTPUT, a marked one is routed by table 1.
  const unmarked = digSync({
    server: '2001:db8:ffff::53',
    name: 'example.org',
    type: 'AAAA',
    gid: 800,
    timeoutSeconds: 1,
    netns: n.node.name,
  });
  t.notMatch(unmarked.answers.join('\n'), /2001:db8::99/, 'the group alone, unmarked, gets no answer');
  const r = await wan(n, 'host', 'dig', '+short', '+time=1', '+tries=1', '@2001:db8:ffff::53', 'example.org', 'AAAA');
  t.equal(r.stdout.trim(), '2001:db8::99', r.stderr);
});
