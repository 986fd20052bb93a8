// The procd init scripts of files/, sourced by busybox sh with procd's shell API stubbed to print each call
// (mkdir and touch too, so nothing is written on the test host), and every shell file syntax-checked.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const filesDir = new URL('../../files', import.meta.url).pathname;
const shell = existsSync('/usr/bin/busybox') ? ['/usr/bin/busybox', 'sh'] : ['/bin/sh'];

const stubs = `
procd_open_instance() { echo "open $*"; }
procd_close_instance() { echo close; }
procd_set_param() { echo "param $*"; }
procd_add_jail() { echo "jail $*"; }
procd_send_signal() { echo "signal $*"; }
procd_running() { echo "running? $*"; [ -n "$RUNNING" ]; }
logger() { echo "logger $*"; }
procd_add_reload_trigger() { echo "trigger $*"; }
mkdir() { echo "mkdir $*"; }
touch() { echo "touch $*"; }
`;

/** Runs `fn` of `script` with the stubs; RUNNING (non-empty) makes procd_running say an instance runs. */
function call(script: string, fn: string, running = true): string {
  const run = spawnSync(shell[0] ?? 'sh', [...shell.slice(1), '-c', `${stubs}\n. "${join(filesDir, script)}"\n${fn}\necho "exit $?"`], {
    encoding: 'utf8',
    env: { ...process.env, RUNNING: running ? '1' : '' },
  });
  return `${run.stdout}${run.stderr}`.replace(/exit 0\n$/, '');
}

t.test('every shell file in files/ parses', async (t) => {
  for (const f of [
    'etc/init.d/wan-dns',
    'etc/init.d/meshwan',
    'etc/hotplug.d/iface/50-gluon-wan-dnsmasq',
    'lib/gluon/wan-dnsmasq/update',
    'usr/lib/meshwan/firewall.include',
    'usr/lib/meshwan/uninstall',
    'etc/uci-defaults/zzz-meshwan-upgrade',
  ]) {
    const run = spawnSync(shell[0] ?? 'sh', [...shell.slice(1), '-n', join(filesDir, f)], { encoding: 'utf8' });
    t.equal(run.status, 0, `${f} ${run.stderr}`);
  }
});

t.test('wan-dns: respawn forever, resolv file ready, SIGHUP on reload, reload on its uci config', async (t) => {
  const start = call('etc/init.d/wan-dns', 'start_service');
  t.match(start, /^mkdir -p \/var\/gluon\/wan-dnsmasq$/m);
  t.match(start, /^param command \/usr\/sbin\/wan-dns --resolv-file \/var\/gluon\/wan-dnsmasq\/resolv.conf$/m);
  t.match(start, /^param respawn 3600 5 0$/m);
  t.match(start, /^close$/m);
  if (!existsSync('/sbin/ujail')) t.notMatch(start, /jail|param user/, 'no ujail: no user switch that would drop CAP_NET_ADMIN');
  t.equal(call('etc/init.d/wan-dns', 'reload_service'), 'running? wan-dns\nsignal wan-dns * HUP\n');
  t.equal(
    call('etc/init.d/wan-dns', 'reload_service', false),
    'running? wan-dns\nlogger -t wan-dns -p daemon.err reload: no running wan-dns instance; nothing reloaded (see logread for why it stopped)\nexit 1\n',
    'a reload with no instance to signal fails, in the log (procd discards the output of a trigger)',
  );
  t.equal(call('etc/init.d/wan-dns', 'service_triggers'), 'trigger gluon-wan-dnsmasq\n');
});

t.test('meshwan: the daemon, respawned, reloaded on network and firewall changes', async (t) => {
  t.equal(
    call('etc/init.d/meshwan', 'start_service'),
    'open \nparam command /usr/sbin/meshwan daemon\nparam respawn 3600 5 0\nparam stdout 1\nparam stderr 1\nclose\n',
  );
  t.equal(call('etc/init.d/meshwan', 'reload_service'), 'running? meshwan\nsignal meshwan * HUP\n');
  t.match(
    call('etc/init.d/meshwan', 'reload_service', false),
    /^logger -t meshwan -p daemon.err reload: no running meshwan instance.*\nexit 1\n$/m,
  );
  t.equal(call('etc/init.d/meshwan', 'service_triggers'), 'trigger network firewall gluon-wan-dnsmasq meshwan-uplinks\n');
});

t.test('the capabilities file is the OCI shape ujail reads', async (t) => {
  const { readFileSync } = await import('node:fs');
  const caps = JSON.parse(readFileSync(join(filesDir, 'etc/capabilities/wan-dns.json'), 'utf8')) as Record<string, string[]>;
  for (const set of ['bounding', 'effective', 'ambient', 'permitted', 'inheritable']) {
    t.same(caps[set], ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE'], set);
  }
});
