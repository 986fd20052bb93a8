// The files/ hotplug hook and resolv updater, run by busybox sh (OpenWrt's ash) on a temp root, with stub
// `ubus` (answers from JSON files) and `jsonfilter` (the few expressions the updater uses) first on PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

const filesDir = new URL('../../files', import.meta.url).pathname;
const shell = existsSync('/usr/bin/busybox') ? ['/usr/bin/busybox', 'sh'] : ['/bin/sh'];

const ubusStub = `#!/bin/sh
# ubus call network.interface.X status
[ "$1" = call ] && [ "$3" = status ] || exit 2
f="$STUB_DIR/$2.json"
[ -f "$f" ] || exit 4
cat "$f"
`;

// jsonfilter in python3 (starts in a fraction of node's time): only the expressions the updater uses.
const jsonfilterStub = `import json, sys
args = sys.argv[1:]
expr = args[args.index('-e') + 1]
data = json.load(sys.stdin)
paths = {
    '@.l3_device': lambda d: d.get('l3_device'),
    '@.device': lambda d: d.get('device'),
    '@["dns-server"][*]': lambda d: d.get('dns-server'),
    '@["inactive"]["dns-server"][*]': lambda d: (d.get('inactive') or {}).get('dns-server'),
}
if expr not in paths:
    sys.stderr.write('stub jsonfilter: unknown expression %s\\n' % expr)
    sys.exit(2)
v = paths[expr](data)
if v is None or v == []:
    sys.exit(1)
print('\\n'.join(v if isinstance(v, list) else [v]))
`;

interface Node {
  root: string;
  stubs: string;
  resolv: string;
  reloads: () => number;
  hook: (action: string, iface: string) => { status: number | null; stdout: string; stderr: string };
  status: (iface: string, value: object | undefined) => void;
}

function node(t: Test): Node {
  const root = mkdtempSync(join(tmpdir(), 'meshwan-hotplug-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const path of ['etc/hotplug.d', 'lib/gluon/wan-dnsmasq']) cpSync(join(filesDir, path), join(root, path), { recursive: true });
  const stubs = join(root, 'stubs');
  const bin = join(stubs, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ubus'), ubusStub);
  writeFileSync(join(bin, 'jsonfilter.py'), jsonfilterStub);
  writeFileSync(join(bin, 'jsonfilter'), `#!/bin/sh\nexec python3 ${join(bin, 'jsonfilter.py')} "$@"\n`);
  chmodSync(join(bin, 'ubus'), 0o755);
  chmodSync(join(bin, 'jsonfilter'), 0o755);
  mkdirSync(join(root, 'etc/init.d'), { recursive: true });
  writeFileSync(join(root, 'etc/init.d/wan-dns'), `#!/bin/sh\necho "$1" >> "${join(root, 'reloads')}"\n`);
  chmodSync(join(root, 'etc/init.d/wan-dns'), 0o755);
  return {
    root,
    stubs,
    resolv: join(root, 'var/gluon/wan-dnsmasq/resolv.conf'),
    reloads: () => (existsSync(join(root, 'reloads')) ? readFileSync(join(root, 'reloads'), 'utf8').split('\n').filter(Boolean).length : 0),
    hook: (action, iface) =>
      spawnSync(
        shell[0] ?? 'sh',
        [...shell.slice(1), '-c', `. "${join(root, 'etc/hotplug.d/iface/50-gluon-wan-dnsmasq')}"; echo sourced-ok`],
        {
          encoding: 'utf8',
          env: { PATH: `${bin}:/usr/bin:/bin`, ACTION: action, INTERFACE: iface, MESHWAN_ROOT: root, STUB_DIR: stubs },
        },
      ),
    status: (iface, value) => {
      const file = join(stubs, `network.interface.${iface}.json`);
      if (value === undefined) rmSync(file, { force: true });
      else writeFileSync(file, JSON.stringify(value));
    },
  };
}

// Dozens of short sh and python processes: generous for a loaded 2-core machine.
t.setTimeout(120_000);

const wanStatus = {
  up: true,
  device: 'eth1',
  l3_device: 'br-wan',
  'dns-server': [],
  inactive: { 'dns-server': ['192.0.2.53', 'fe80::1'] },
};
const wan6Status = {
  up: true,
  device: 'br-wan',
  l3_device: 'br-wan',
  'dns-server': ['2001:db8::53'],
  inactive: { 'dns-server': ['2001:db8::53', 'FE90::2', 'fe80::3%eth9'] },
};

t.test("ifup of wan writes every listed interface's servers, link-local ones scoped, and reloads once", async (t) => {
  const n = node(t);
  n.status('wan', wanStatus);
  n.status('wan6', wan6Status);
  const run = n.hook('ifup', 'wan');
  t.equal(run.stderr, '');
  t.equal(run.stdout, 'sourced-ok\n', 'the sourced hook does not end hotplug-call');
  t.equal(
    readFileSync(n.resolv, 'utf8'),
    'nameserver 192.0.2.53\nnameserver fe80::1%br-wan\nnameserver 2001:db8::53\nnameserver FE90::2%br-wan\nnameserver fe80::3%eth9\n',
  );
  t.equal(n.reloads(), 1);
  t.same(readdirSync(join(n.root, 'var/gluon/wan-dnsmasq')), ['resolv.conf'], 'no temp file left');

  const before = statSync(n.resolv);
  n.hook('ifupdate', 'wan6');
  const after = statSync(n.resolv);
  t.equal(after.ino, before.ino, 'unchanged servers: the file is not rewritten');
  t.equal(n.reloads(), 1, 'and wan-dns is not signalled');

  n.status('wan', undefined);
  n.hook('ifdown', 'wan');
  t.equal(readFileSync(n.resolv, 'utf8'), 'nameserver 2001:db8::53\nnameserver FE90::2%br-wan\nnameserver fe80::3%eth9\n');
  t.equal(n.reloads(), 2);
});

t.test('other interfaces and other actions do nothing', async (t) => {
  const n = node(t);
  n.status('wan', wanStatus);
  t.equal(n.hook('ifup', 'lan').stdout, 'sourced-ok\n');
  t.equal(n.hook('ifup', 'wan_extra').stdout, 'sourced-ok\n', 'names match whole lines only');
  t.equal(n.hook('free', 'wan').stdout, 'sourced-ok\n');
  t.notOk(existsSync(n.resolv));
  t.equal(n.reloads(), 0);
});

t.test('no servers anywhere: an empty resolv file, so wan-dns answers SERVFAIL instead of guessing', async (t) => {
  const n = node(t);
  n.status('cellular', { up: false, device: 'wwan0', inactive: {} });
  n.hook('ifup', 'cellular');
  t.equal(readFileSync(n.resolv, 'utf8'), '');
  t.equal(n.reloads(), 1);
  n.hook('ifup', 'cellular');
  t.equal(n.reloads(), 1);
});
