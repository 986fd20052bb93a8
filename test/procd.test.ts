// tier: root: network namespaces, SO_MARK or firewall rules (a pid + mount + net namespace for OpenWrt's procd)
// meshwan's init scripts and iface hotplug hooks under OpenWrt's real procd and ubusd (test/lib/procd.ts), on the
// staged tree: instances, their command lines and env, respawn, reload triggers through reload_config, a failing
// reload in the syslog, limits and jail parameters, LD_PRELOAD under stdout capture, and the hooks as
// hotplug-call sources them beside OpenWrt's real netifd.
import t from 'tap';
import { waitFor } from './lib/netns.js';
import { PROCD_DEADLINE_MS, type Procd, startProcd } from './lib/procd.js';

/** Every service our init scripts start under procd. */
const SERVICES = ['meshwan', 'wan-dns', 'meshwan-uplinks'] as const;

/** Each init script's START (its rc.d link after `enable`). */
const START: Record<(typeof SERVICES)[number], number> = { meshwan: 21, 'wan-dns': 60, 'meshwan-uplinks': 22 };

const NETWORK = `config interface 'loopback'
\toption device 'lo'
\toption proto 'static'
\toption ipaddr '127.0.0.1'
\toption netmask '255.0.0.0'

config interface 'wan'
\toption device 'wan0'
\toption proto 'static'
\toption ipaddr '192.0.2.2'
\toption netmask '255.255.255.0'
\toption gateway '192.0.2.1'
\tlist dns '192.0.2.53'
\tlist dns 'fe80::53'
`;

/** The command line each init script gives procd (and so the process's /proc/PID/cmdline). */
function runs(name: (typeof SERVICES)[number]): string[] {
  if (name === 'meshwan') return ['/usr/sbin/meshwan', 'daemon'];
  if (name === 'wan-dns') return ['/usr/sbin/wan-dns', '--resolv-file', '/var/gluon/wan-dnsmasq/resolv.conf'];
  return ['/usr/bin/meshwan-uplinks', 'daemon'];
}

/** The uci packages whose change reloads each service (procd_add_reload_trigger). */
const TRIGGERS: Record<(typeof SERVICES)[number], string[]> = {
  meshwan: ['network', 'firewall', 'gluon-wan-dnsmasq', 'meshwan-uplinks'],
  'wan-dns': ['gluon-wan-dnsmasq'],
  'meshwan-uplinks': ['meshwan-uplinks'],
};

/** The packages of a service's config.change triggers, as procd holds them (`["if",["eq","package",P],…]`). */
function triggers(p: Procd, name: string): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (!Array.isArray(v)) return;
    if (v[0] === 'eq' && v[1] === 'package' && typeof v[2] === 'string') found.push(v[2]);
    for (const x of v) walk(x);
  };
  walk(p.service(name)?.triggers);
  return found;
}

function counter(p: Procd, name: string): number {
  const r = p.run('wan-dns', '--status');
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.stdout);
  return m ? Number(m[1]) : -1;
}

/** hotplug-call's loop for one subsystem: each script sourced in a subshell, with ACTION, INTERFACE, DEVICE. */
function hotplug(p: Procd, action: string, iface: string, device: string) {
  return p.runEnv(
    { ACTION: action, INTERFACE: iface, DEVICE: device },
    '/bin/sh',
    '-c',
    'for script in $(ls /etc/hotplug.d/iface/* 2>&-); do ( . "$script" ); done',
  );
}

// Start-up (make install, the layer) and procd's 5 s respawn delay; generous for a loaded machine.
t.setTimeout(180_000);

t.test('meshwan under OpenWrt procd', async (t) => {
  const p = await startProcd(t);
  try {
    await t.test('uci-defaults as /etc/init.d/boot applies them (first boot after a flash)', async (t) => {
      // base-files' uci_apply_defaults: each file sourced in a subshell from /etc/uci-defaults, removed on success.
      const r = p.run('sh', '-c', 'cd /etc/uci-defaults && for file in *; do ( . "./$file" ) && rm -f "$file"; done');
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stderr, '', 'nothing on stderr');
      t.same(p.must('ls', '/etc/uci-defaults').trim(), '', 'zzz-meshwan-upgrade ran and was removed');
      // meshwan-reconfigure wrote the configs, read back by OpenWrt's own uci.
      t.equal(p.must('uci', '-q', 'get', 'network.wan6_lookup').trim(), 'rule6', "network's WAN lookup rule, as OpenWrt's uci reads it");
      t.match(p.must('uci', 'show', 'meshwan'), /^meshwan\./m);
    });
    // A WAN for the hooks: OpenWrt's netifd in the namespace (a static interface on a veth).
    p.must('ip', 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'wan1');
    p.must('ip', 'link', 'set', 'wan1', 'up');
    p.must('sh', '-c', `cat > /etc/config/network <<'EOF'\n${NETWORK}EOF\nmkdir -p /lib/netifd/proto`);
    p.must('sh', '-c', '(exec netifd -h /bin/true -S > /var/log/netifd.log 2>&1 &)');
    await waitFor(
      'netifd: wan up',
      () => p.run('ubus', 'call', 'network.interface.wan', 'status').stdout.includes('"up": true'),
      PROCD_DEADLINE_MS,
    );
    // An enabled uplink, so meshwan-uplinks starts.
    p.must('uci', 'set', 'meshwan-uplinks.wan.enabled=1');
    p.must('uci', 'set', 'meshwan-uplinks.wan.device=wan0');
    p.must('uci', 'commit', 'meshwan-uplinks');
    // The baseline that reload_config compares against later (only gluon-wan-dnsmasq changes after it).
    p.must('reload_config');

    for (const name of SERVICES) {
      const r = p.run(`/etc/init.d/${name}`, 'enable');
      t.equal(r.status, 0, `${name} enable: ${r.stderr}`);
      t.ok(p.readFile(`etc/rc.d/S${START[name]}${name}`) !== undefined, `${name}: rc.d start link`);
      t.equal(p.run(`/etc/init.d/${name}`, 'start').status, 0, `${name} start`);
    }

    await t.test('instances: command line, env, the process itself', async (t) => {
      for (const name of SERVICES) {
        const pid = await p.runningPid(name);
        const inst = p.instance(name);
        // A fresh instance is procd's fork until it has exec'd its command.
        await waitFor(`${name}: /proc/${pid}/cmdline`, () => p.procFile(pid, 'cmdline')[0] !== 'procd', PROCD_DEADLINE_MS);
        t.same(p.procFile(pid, 'cmdline'), runs(name), `${name}: /proc/${pid}/cmdline is procd's command`);
        t.same(inst?.command, runs(name), `${name}: procd's command`);
        // The staged commands are meshwan-js (QuickJS), not Node.
        t.equal(p.must('readlink', `/proc/${pid}/exe`).trim(), '/usr/bin/meshwan-js', `${name}: runs on meshwan-js`);
        // What it logs reaches the syslog (procd relays captured stdout as NAME[PID]).
        await waitFor(`${name}'s log in the syslog`, () => p.syslog().includes(`${name}[`), PROCD_DEADLINE_MS);
        t.same(inst?.respawn, { threshold: 3600, timeout: 5, retry: 0 }, `${name}: respawn forever`);
        t.equal(inst?.jail, undefined, `${name}: no ujail in the root, so no jail parameters`);
        const env = p.procFile(pid, 'environ');
        // The trap: with `stdout 1` procd preloads libsetlbf over any LD_PRELOAD of the script's; none of ours sets one.
        t.same(
          env.filter((e) => e.startsWith('LD_PRELOAD=')),
          ['LD_PRELOAD=/lib/libsetlbf.so'],
          `${name}: LD_PRELOAD is procd's libsetlbf only`,
        );
        t.equal(inst?.env?.LD_PRELOAD, undefined, `${name}: the script sets no LD_PRELOAD`);
        t.equal(inst?.limits, undefined, `${name}: no procd_set_param limits`);
        t.same(triggers(p, name), TRIGGERS[name], `${name}: reload triggers on ${TRIGGERS[name].join(', ')}`);
      }
      t.same(p.instance('wan-dns')?.command, ['/usr/sbin/wan-dns', '--resolv-file', '/var/gluon/wan-dnsmasq/resolv.conf']);
      t.same(p.instance('meshwan-uplinks')?.command, ['/usr/bin/meshwan-uplinks', 'daemon']);
      t.match(p.must('wan-dns', '--status'), /upstream-sockets \d+\/\d+ marked/, 'wan-dns answers --status on its control socket');
    });

    await t.test('respawn: a killed instance comes back under a new PID', async (t) => {
      const pids = await Promise.all(SERVICES.map((name) => p.runningPid(name)));
      for (const pid of pids) p.must('kill', '-9', String(pid));
      // Both at once: procd waits its respawn timeout (5 s) before each restart.
      const next = await Promise.all(SERVICES.map((name, i) => p.runningPid(name, pids[i])));
      for (const [i, name] of SERVICES.entries()) {
        const pid = next[i] ?? 0;
        t.not(pid, pids[i], `${name}: respawned as ${pid}`);
        await waitFor(`${name}: /proc/${pid}/cmdline`, () => p.procFile(pid, 'cmdline')[0] !== 'procd', PROCD_DEADLINE_MS);
        t.same(p.procFile(pid, 'cmdline'), runs(name), `${name}: the same command line`);
      }
    });

    await t.test('reload_config → trigger → reload_service: wan-dns gets SIGHUP', async (t) => {
      const uci = '/etc/config/gluon-wan-dnsmasq';
      // The respawned instance answers on its control socket once it listens.
      await waitFor('wan-dns --status', () => counter(p, 'reloads') >= 0, PROCD_DEADLINE_MS);
      // Written in one rename, so wan-dns's own one-second poll of its sources sees exactly one change.
      const before = counter(p, 'reloads');
      p.must('sh', '-c', `printf "config static\\n\\tlist server '192.0.2.54'\\n" > ${uci}.new && mv ${uci}.new ${uci}`);
      await waitFor('wan-dns polled the new server', () => counter(p, 'reloads') === before + 1, PROCD_DEADLINE_MS);
      t.match(p.must('wan-dns', '--status'), /192\.0\.2\.54/);
      p.must('reload_config');
      // procd runs the trigger after its 1 s debounce: /etc/init.d/wan-dns reload → procd_send_signal HUP.
      await waitFor('wan-dns reloaded by SIGHUP', () => counter(p, 'reloads') === before + 2, PROCD_DEADLINE_MS);
      t.equal(counter(p, 'reloads'), before + 2, 'one reload from the poll, one from SIGHUP');
      t.equal(p.instance('wan-dns')?.running, true, 'SIGHUP reloads, it does not end wan-dns');
    });

    await t.test('hotplug: ifup of wan rewrites the resolv file; an uplink gets SIGUSR1 through procd', async (t) => {
      const pid = await p.runningPid('meshwan-uplinks');
      const pokes = () =>
        p
          .syslog()
          .split('\n')
          .filter((l) => l.includes('meshwan-uplinks[') && l.includes('poked: resync')).length;
      t.equal(pokes(), 0, 'no poke yet');
      const r = hotplug(p, 'ifup', 'wan', 'wan0');
      t.equal(r.status, 0);
      t.equal(r.stderr, '', 'sourcing the hooks prints nothing to stderr');
      t.equal(r.stdout, '', 'nor to stdout');
      t.equal(
        p.readFile('var/gluon/wan-dnsmasq/resolv.conf'),
        'nameserver 192.0.2.53\nnameserver fe80::53%wan0\n',
        "netifd's servers, the link-local one scoped",
      );
      // The daemon logs SIGUSR1 (`poked: resync`) to the syslog.
      await waitFor('meshwan-uplinks logged the poke', () => pokes() === 1, PROCD_DEADLINE_MS);
      t.equal(p.instance('meshwan-uplinks')?.pid, pid, 'SIGUSR1 does not restart it');
      const down = hotplug(p, 'ifdown', 'wan', 'wan0');
      t.equal(down.stderr, '', 'ifdown: nothing on stderr');
      await waitFor('meshwan-uplinks poked again on ifdown', () => pokes() === 2, PROCD_DEADLINE_MS);
      const other = hotplug(p, 'ifup', 'lan', 'br-lan');
      t.equal(other.stderr, '', 'an interface that is neither: nothing on stderr');
      t.equal(p.instance('meshwan-uplinks')?.pid, pid, 'still the same instance');
    });

    await t.test('a reload that cannot happen is in the syslog, also when procd runs it as a trigger', async (t) => {
      const line = 'wan-dns: reload: no running wan-dns instance';
      const lines = () =>
        p
          .syslog()
          .split('\n')
          .filter((l) => l.includes(line)).length;
      // The instance gone, the service (and its trigger) kept: what a crashed instance between respawns looks like.
      p.must('ubus', 'call', 'service', 'delete', JSON.stringify({ name: 'wan-dns', instance: 'instance1' }));
      await waitFor(
        'the wan-dns instance gone',
        () => p.instance('wan-dns') === undefined && p.service('wan-dns') !== undefined,
        PROCD_DEADLINE_MS,
      );
      const uci = '/etc/config/gluon-wan-dnsmasq';
      p.must('sh', '-c', `printf "config static\\n\\tlist server '192.0.2.55'\\n" > ${uci}.new && mv ${uci}.new ${uci}`);
      // procd runs the trigger with its output to /dev/null: only the syslog tells.
      p.must('reload_config');
      await waitFor('the trigger-run reload in the syslog', () => lines() === 1, PROCD_DEADLINE_MS);
      t.equal(lines(), 1, 'the failed trigger-run reload is logged');
      // Run by hand after `stop`: the same line, and a non-zero exit.
      t.equal(p.run('/etc/init.d/wan-dns', 'stop').status, 0);
      await waitFor('wan-dns gone from procd', () => p.service('wan-dns') === undefined, PROCD_DEADLINE_MS);
      t.not(p.run('/etc/init.d/wan-dns', 'reload').status, 0, 'reload fails');
      await waitFor('the second syslog line', () => lines() === 2, PROCD_DEADLINE_MS);
      t.match(p.syslog(), /wan-dns: reload: no running wan-dns instance; nothing reloaded/);
    });

    await t.test('with /sbin/ujail present: the jail arguments wan-dns gives procd', async (t) => {
      // A ujail that records its arguments and runs the command after `--` (procd's jail_run builds them; the
      // real ujail's user switch and capabilities are not run here).
      p.must(
        'sh',
        '-c',
        `cat > /sbin/ujail <<'EOF'
#!/bin/sh
printf '%s\\n' "$@" > /var/log/ujail.args
while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
shift
exec "$@"
EOF
chmod 755 /sbin/ujail
echo 'wan-dns:x:801:801:wan-dns:/var:/bin/false' >> /etc/passwd
echo 'wan-dns:x:801:' >> /etc/group`,
      );
      t.equal(p.run('/etc/init.d/wan-dns', 'start').status, 0, 'wan-dns start');
      const pid = await p.runningPid('wan-dns');
      const inst = p.instance('wan-dns');
      t.match(inst?.jail, { name: 'wan-dns' }, 'procd holds a jail for it');
      t.equal(inst?.no_new_privs, true);
      await waitFor('ujail ran', () => p.readFile('var/log/ujail.args') !== undefined, PROCD_DEADLINE_MS);
      t.same(
        p.readFile('var/log/ujail.args')?.trimEnd().split('\n'),
        [
          '-t',
          '5',
          '-n',
          'wan-dns',
          '-U',
          'wan-dns',
          '-G',
          'wan-dns',
          '-C',
          '/etc/capabilities/wan-dns.json',
          '-c',
          '--',
          ...runs('wan-dns'),
        ],
        'user, group, capabilities and no_new_privs; no mount, log or procfs option, so ujail makes no mount namespace',
      );
      await waitFor(`wan-dns: /proc/${pid}/cmdline`, () => p.procFile(pid, 'cmdline')[0] === runs('wan-dns')[0], PROCD_DEADLINE_MS);
      t.same(p.procFile(pid, 'cmdline'), runs('wan-dns'), 'the command runs under the jail');
      t.equal(p.run('/etc/init.d/wan-dns', 'stop').status, 0);
    });
  } finally {
    // Before the teardown ends the namespace: what procd and the services said, when something failed.
    if (!t.passing() || process.env.PROCD_LOG) t.comment(`procd log:\n${p.log().slice(-4000)}\nsyslog:\n${p.syslog().slice(-6000)}`);
  }
});
