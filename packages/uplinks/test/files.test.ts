// files/ for this package, run by busybox sh (OpenWrt's ash) on a temp root: the procd init script (started only
// with an enabled interface), the netifd hotplug hook (pokes the daemon for uplink interfaces only), and the
// default config (valid, nothing enabled). `uci` is @meshwan/uci's command; procd's shell API and `ubus` are
// stubbed to a log.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfig } from '@meshwan/uci';
import t, { type Test } from 'tap';
import { loadConfig } from '../src/config.js';

const filesDir = new URL('../../../files', import.meta.url).pathname;
const uciBin = new URL('../../uci/bin/uci.js', import.meta.url).pathname;
const shell = existsSync('/usr/bin/busybox') ? ['/usr/bin/busybox', 'sh'] : ['/bin/sh'];

const procdStub = `
procd_open_instance() { echo "open_instance" >> "$PROCD_LOG"; }
procd_set_param() { echo "set_param $*" >> "$PROCD_LOG"; }
procd_close_instance() { echo "close_instance" >> "$PROCD_LOG"; }
procd_add_reload_trigger() { echo "reload_trigger $*" >> "$PROCD_LOG"; }
procd_send_signal() { echo "send_signal $*" >> "$PROCD_LOG"; }
`;

interface Root {
  dir: string;
  run: (script: string, env?: Record<string, string>) => { status: number | null; log: string; stderr: string };
  config: (text: string) => void;
}

function root(t: Test): Root {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc/config'), { recursive: true });
  mkdirSync(join(dir, 'lib/functions'), { recursive: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(join(filesDir, 'etc'), join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'lib/functions/procd.sh'), procdStub);
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  writeFileSync(join(dir, 'usr/bin/meshwan-uplinks'), '#!/bin/sh\necho "meshwan-uplinks $*" >> "$PROCD_LOG"\n');
  chmodSync(join(dir, 'usr/bin/meshwan-uplinks'), 0o755);
  // procd's ubus object as the hook calls it: `ubus call service signal JSON`.
  writeFileSync(join(dir, 'bin/ubus'), '#!/bin/sh\necho "ubus $*" >> "$PROCD_LOG"\n');
  chmodSync(join(dir, 'bin/ubus'), 0o755);
  writeFileSync(join(dir, 'bin/uci'), `#!/bin/sh\nexec ${process.execPath} ${uciBin} -P ${join(dir, 'uci-save')} "$@"\n`);
  chmodSync(join(dir, 'bin/uci'), 0o755);
  const logFile = join(dir, 'procd.log');
  return {
    dir,
    config: (text) => writeFileSync(join(dir, 'etc/config/meshwan-uplinks'), text),
    run: (script, env = {}) => {
      writeFileSync(logFile, '');
      const r = spawnSync(shell[0] as string, [...shell.slice(1), '-c', script], {
        encoding: 'utf8',
        env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, MESHWAN_ROOT: dir, PROCD_LOG: logFile, ...env },
      });
      return { status: r.status, log: readFileSync(logFile, 'utf8'), stderr: r.stderr };
    },
  };
}

/** Sources the init script as rc.common would (its functions only) and calls start_service. */
const startService = (r: Root) =>
  `. ${join(r.dir, 'lib/functions/procd.sh')}; . ${join(r.dir, 'etc/init.d/meshwan-uplinks')}; start_service; service_triggers`;

t.test('the default config is valid and enables nothing', async (t) => {
  const config = loadConfig(openConfig({ root: filesDir }));
  t.same(
    config.uplinks.map((u) => [u.name, u.device, u.family, u.enabled]),
    [
      ['wan6', 'br-wan', 6, false],
      ['wan', 'br-wan', 4, false],
    ],
  );
  t.equal(config.globals.metric, 10);
});

t.test('init script: no instance unless an interface is enabled; then a respawning daemon', async (t) => {
  const r = root(t);
  const shipped = r.run(startService(r));
  t.equal(shipped.status, 0, shipped.stderr);
  t.notMatch(shipped.log, /open_instance/, 'the shipped config (all disabled) starts nothing');
  t.match(shipped.log, /reload_trigger meshwan-uplinks/);

  rmSync(join(r.dir, 'etc/config/meshwan-uplinks'));
  t.notMatch(r.run(startService(r)).log, /open_instance/, 'no config file: nothing');

  r.config("config interface 'a'\n\toption device 'eth1'\n\toption enabled 'no'\n\nconfig interface 'b'\n\toption device 'wwan0'\n");
  const on = r.run(startService(r));
  t.equal(on.status, 0, on.stderr);
  t.match(on.log, /open_instance\nset_param command \S*\/usr\/bin\/meshwan-uplinks daemon\nset_param respawn 3600 5 0\n/);
  t.match(on.log, /close_instance/);
});

t.test("init script reload: restart; once nothing is enabled any more, flush the stopped daemon's routes", async (t) => {
  const r = root(t);
  const reload = `stop() { echo stop >> "$PROCD_LOG"; }; start() { echo start >> "$PROCD_LOG"; }; . ${join(r.dir, 'etc/init.d/meshwan-uplinks')}; reload_service`;
  r.config("config interface 'wan6'\n\toption device 'br-wan'\n");
  t.equal(r.run(reload).log, 'stop\nstart\n', 'still enabled: a plain restart, routes adopted by the new instance');
  r.config("config interface 'wan6'\n\toption device 'br-wan'\n\toption enabled '0'\n");
  t.equal(r.run(reload).log, 'stop\nmeshwan-uplinks flush\nstart\n');
});

t.test('hotplug hook: pokes the daemon on ifup/ifupdate/ifdown of an uplink interface only', async (t) => {
  const r = root(t);
  // Not procd.sh: it belongs to init scripts (flock on /var/lock/procd_NAME.lock, basename of $initscript).
  rmSync(join(r.dir, 'lib/functions/procd.sh'));
  const usr1 = spawnSync(shell[0] as string, [...shell.slice(1), '-c', 'kill -l USR1'], { encoding: 'utf8' }).stdout.trim();
  t.match(usr1, /^\d+$/, "the shell names signals by number (busybox ash's kill -l, as on a node)");
  r.config("config interface 'wan6'\n\toption device 'br-wan'\n\nconfig member 'm'\n\toption interface 'wan6'\n");
  const hook = join(r.dir, 'etc/hotplug.d/iface/60-meshwan-uplinks');
  for (const action of ['ifup', 'ifupdate', 'ifdown']) {
    const out = r.run(`. ${hook}`, { ACTION: action, INTERFACE: 'wan6' });
    t.equal(out.status, 0, out.stderr);
    t.equal(out.stderr, '', `${action}: nothing on stderr`);
    t.equal(out.log, `ubus call service signal {"name":"meshwan-uplinks","signal":${usr1}}\n`, action);
  }
  t.equal(r.run(`. ${hook}`, { ACTION: 'ifup', INTERFACE: 'mesh' }).log, '', 'not an uplink');
  t.equal(r.run(`. ${hook}`, { ACTION: 'ifup', INTERFACE: 'm' }).log, '', 'a member section is not an interface');
  t.equal(r.run(`. ${hook}`, { ACTION: 'iflink', INTERFACE: 'wan6' }).log, '', 'other actions');
  rmSync(join(r.dir, 'etc/config/meshwan-uplinks'));
  t.equal(r.run(`. ${hook}`, { ACTION: 'ifup', INTERFACE: 'wan6' }).log, '', 'no config');
});
