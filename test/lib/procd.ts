/**
 * OpenWrt's real procd and ubusd (test/lib/openwrt.ts) serving meshwan's staged tree, as a router runs its init
 * scripts: one `unshare --pid --mount --net` holds a root made of the host's / (read-only lower layer) under an
 * overlay whose upper layer, on a tmpfs of that mount namespace, carries meshwan's `make install` tree, OpenWrt's
 * base files (rc.common, procd.sh, reload_config), procd's libsetlbf.so at /lib and busybox as /bin/sh, logger and
 * syslogd. /run, /tmp and /dev are the namespace's own tmpfs, so every write (uci's /tmp/.uci, /var/run, /var/log,
 * /etc/config) stays in the namespace and vanishes with it; the network namespace is empty but for its loopback
 * and what a test adds. procd runs with -S (its log to stdout, here; without it procd writes the host's
 * /dev/kmsg). Teardown: SIGKILL to `unshare` by PID, whose --kill-child ends the namespace's PID 1 and with it
 * every process in it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onLines, type Teardowns, waitFor } from './netns.js';
import { openwrtBaseFiles, openwrtTools, repoRoot } from './openwrt.js';

/** Every wait here: generous, the machine is shared and busy. */
export const PROCD_DEADLINE_MS = 30_000;

/** procd's own PATH for what it starts, and the one every command here runs with. */
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Thrown when the namespace does not come up, or a command in it fails. */
class ProcdError extends Error {
  override readonly name = 'ProcdError';
}

/** One instance as `ubus call service list '{"verbose":true}'` shows it (the fields the tests read). */
export interface ProcdInstance {
  running: boolean;
  pid?: number;
  command?: string[];
  env?: Record<string, string>;
  respawn?: { threshold: number; timeout: number; retry: number };
  limits?: Record<string, string>;
  jail?: Record<string, unknown>;
  no_new_privs?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface ProcdService {
  instances?: Record<string, ProcdInstance>;
  triggers?: unknown[];
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * jsonfilter (OpenWrt's jsonpath, not among the pinned sources) for the expressions procd.sh and the wan-dnsmasq
 * updater use (`@['svc'].instances[*].running`, `$.instances`, `@["dns-server"][*]`), translated to jq.
 */
const JSONFILTER = `#!/bin/sh
limit= expr= input=
while [ $# -gt 0 ]; do
	case "$1" in
	-l) limit=$2; shift 2 ;;
	-e) expr=$2; shift 2 ;;
	-s) input=$2; shift 2 ;;
	-i) input=$(cat "$2"); shift 2 ;;
	*) echo "jsonfilter: unsupported $1" >&2; exit 2 ;;
	esac
done
q=$(printf '%s' "$expr" | sed -e "s/^[@$]\\\\.\\\\{0,1\\\\}/./" -e 's/\\[\\*\\]/[]/g' -e "s/\\['\\([^']*\\)'\\]/[\\"\\1\\"]/g")
if [ -n "$input" ]; then out=$(printf '%s' "$input" | jq -r "$q | select(. != null)" 2>/dev/null)
else out=$(jq -r "$q | select(. != null)" 2>/dev/null); fi
[ -n "$out" ] || exit 1
if [ -n "$limit" ]; then printf '%s\\n' "$out" | head -n "$limit"; else printf '%s\\n' "$out"; fi
`;

/** PID 1 of the namespace: syslogd, ubusd, then procd; it waits on procd (and reaps orphans meanwhile). */
const INIT = `set -e
T=$1 R=$1/root
mount -t tmpfs tmpfs "$T/rw"
mkdir "$T/rw/upper" "$T/rw/work"
cp -a "$T/layer/." "$T/rw/upper/"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/rw/upper,workdir=$T/rw/work" "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R/run/lock" "$R/run/ubus" "$R/var/log"
ip link set lo up
cd "$R"
exec chroot "$R" /bin/sh -c '
syslogd -n -O /var/log/messages -S &
ubusd &
while [ ! -S /var/run/ubus/ubus.sock ]; do sleep 0.05; done
procd -S &
wait $!
echo "procd exited: $?"'
`;

export class Procd {
  readonly dir: string;
  private unshare: ChildProcess | undefined;
  /** The namespace's PID 1 as the host sees it (nsenter's target; /proc/PID/root is the root). */
  private initPid = 0;
  private logText = '';

  constructor(t: Teardowns) {
    this.dir = mkdtempSync(join(tmpdir(), 'meshwan-procd-'));
    // One teardown, in this order: the namespace (and its mounts) first, then the temp root.
    t.teardown(async () => {
      await this.stop();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /** The root as the host sees it (through the namespace's PID 1): read files the services wrote. */
  get root(): string {
    return `/proc/${this.initPid}/root`;
  }

  /** What procd (-S), its instances' captured stdout/stderr and PID 1 printed. */
  log(): string {
    return this.logText;
  }

  /** The syslog (busybox syslogd's /var/log/messages): what `logger` wrote. */
  syslog(): string {
    try {
      return readFileSync(join(this.root, 'var/log/messages'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stages meshwan (`make install DESTDIR`), builds the layer, starts the namespace; resolves when procd serves ubus `service`. */
  async start(): Promise<void> {
    const tools = openwrtTools();
    const base = openwrtBaseFiles();
    const stage = join(this.dir, 'stage');
    // Its own payload directory: two runs at once must not share build/payload.
    const made = spawnSync(
      'make',
      ['-s', '--no-print-directory', '-C', repoRoot, 'install', `DESTDIR=${stage}`, `PAYLOAD=${join(this.dir, 'payload')}`],
      {
        encoding: 'utf8',
      },
    );
    if (made.status !== 0) throw new ProcdError(`make install DESTDIR=${stage} failed:\n${made.stdout}${made.stderr}`);
    const layer = join(this.dir, 'layer');
    copyIntoLayer(stage, layer);
    copyIntoLayer(base, layer);
    const put = (path: string, target: string) => {
      const dest = layerPath(layer, path);
      mkdirSync(join(dest, '..'), { recursive: true });
      rmSync(dest, { force: true });
      symlinkSync(target, dest);
    };
    put('sbin/procd', tools.procd);
    put('sbin/ubusd', tools.ubusd);
    put('sbin/netifd', tools.netifd);
    put('bin/ubus', tools.ubus);
    put('sbin/uci', tools.uci);
    put('usr/bin/jshn', tools.jshn);
    cpSync(tools.libsetlbf, layerPath(layer, 'lib/libsetlbf.so'));
    // OpenWrt's shell and syslog: busybox ash, logger, syslogd.
    const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
    if (busybox === '') throw new ProcdError('busybox is missing (make deps-debian installs it)');
    for (const applet of ['bin/sh', 'usr/bin/logger', 'sbin/syslogd']) put(applet, busybox);
    if (spawnSync('sh', ['-c', 'command -v jq'], { stdio: 'ignore' }).status !== 0)
      throw new ProcdError('jq is missing (make deps-debian installs it)');
    const jsonfilter = layerPath(layer, 'usr/bin/jsonfilter');
    writeFileSync(jsonfilter, JSONFILTER);
    chmodSync(jsonfilter, 0o755);
    // base-files ships /etc/rc.d (where `enable` links S??name).
    mkdirSync(layerPath(layer, 'etc/rc.d'), { recursive: true });
    writeFileSync(join(this.dir, 'init.sh'), INIT);
    mkdirSync(join(this.dir, 'rw'));
    mkdirSync(join(this.dir, 'root'));

    const child = spawn(
      'unshare',
      [
        '--pid',
        '--mount',
        '--net',
        '--fork',
        '--kill-child=SIGKILL',
        '--propagation',
        'private',
        'sh',
        join(this.dir, 'init.sh'),
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH } },
    );
    this.unshare = child;
    const append = (line: string) => {
      this.logText += `${line}\n`;
    };
    onLines(child.stdout, append);
    onLines(child.stderr, append);
    child.once('exit', (code, signal) => append(`[unshare exited: ${signal ?? code}]`));
    await waitFor(
      'the namespace PID 1',
      () => {
        this.assertAlive();
        const kids = readChildren(child.pid);
        if (kids.length > 0) this.initPid = kids[0] ?? 0;
        return this.initPid !== 0;
      },
      PROCD_DEADLINE_MS,
    );
    await waitFor(
      'procd on ubus (service object)',
      () => {
        this.assertAlive();
        return this.run('ubus', 'list', 'service').status === 0;
      },
      PROCD_DEADLINE_MS,
    );
  }

  /** Ends the namespace: SIGKILL to unshare (by PID); --kill-child takes its PID 1 and so every process in it. */
  async stop(): Promise<void> {
    const child = this.unshare;
    this.unshare = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const init = this.initPid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    if (init !== 0) await waitFor(`the namespace's PID 1 (${init}) gone`, () => !existsSync(`/proc/${init}/root/proc`), PROCD_DEADLINE_MS);
  }

  /** Runs a command in the namespace's root, with procd's PATH and `env`; its exit status and output. */
  run(command: string, ...args: string[]): RunResult {
    return this.runEnv({}, command, ...args);
  }

  runEnv(env: Record<string, string>, command: string, ...args: string[]): RunResult {
    const r = spawnSync('nsenter', ['-t', String(this.initPid), '-m', '-p', '-n', '-r', '-w', command, ...args], {
      encoding: 'utf8',
      env: { PATH, ...env },
      timeout: PROCD_DEADLINE_MS,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
  }

  /** Like run, but throws ProcdError (with the output and procd's log) unless it exits 0. */
  must(command: string, ...args: string[]): string {
    const r = this.run(command, ...args);
    if (r.status !== 0) {
      throw new ProcdError(
        `${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}\nprocd log:\n${this.logText.slice(-2000)}`,
      );
    }
    return r.stdout;
  }

  /** `ubus call service list '{"name":NAME,"verbose":true}'`: the service, or undefined when procd has none. */
  service(name: string): ProcdService | undefined {
    const r = this.run('ubus', 'call', 'service', 'list', JSON.stringify({ name, verbose: true }));
    if (r.status !== 0) throw new ProcdError(`ubus call service list failed: ${r.stderr}`);
    const all = JSON.parse(r.stdout === '' ? '{}' : r.stdout) as Record<string, ProcdService>;
    return all[name];
  }

  /** The one instance of a service (procd names a lone unnamed instance `instance1`). */
  instance(name: string): ProcdInstance | undefined {
    return this.service(name)?.instances?.instance1;
  }

  /** Resolves with the instance's PID once procd says it runs (and, with `not`, under another PID than that). */
  async runningPid(name: string, not?: number): Promise<number> {
    let pid = 0;
    await waitFor(
      `${name} running under procd${not === undefined ? '' : ` with a PID other than ${not}`}`,
      () => {
        const i = this.instance(name);
        pid = i?.running && i.pid !== undefined && i.pid !== not ? i.pid : 0;
        return pid !== 0;
      },
      PROCD_DEADLINE_MS,
    );
    return pid;
  }

  /** A file of /proc/PID (PID as the namespace numbers it), NULs as separators. */
  procFile(pid: number, file: 'cmdline' | 'environ'): string[] {
    return readFileSync(join(this.root, 'proc', String(pid), file), 'utf8')
      .split('\0')
      .filter((s) => s !== '');
  }

  /** A file of the root (what the services wrote); undefined when absent. */
  readFile(path: string): string | undefined {
    try {
      return readFileSync(join(this.root, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  private assertAlive(): void {
    const c = this.unshare;
    if (!c || c.exitCode !== null || c.signalCode !== null)
      throw new ProcdError(`the procd namespace ended:\n${this.logText.slice(-2000)}`);
  }
}

/** The PIDs a process started (Linux's /proc/PID/task/PID/children). */
function readChildren(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Where `path` (relative to /) goes in the upper layer: on a merged-/usr host, /bin, /sbin and /lib are symlinks
 * into /usr, and an upper-layer directory of the same name would hide them (and with /lib the C library).
 */
function layerPath(layer: string, path: string): string {
  const [top = '', ...rest] = path.split('/');
  let dir = top;
  try {
    if (lstatSync(`/${top}`).isSymbolicLink()) dir = readlinkSync(`/${top}`).replace(/^\//, '');
  } catch {
    // Not on the host: the layer's own directory.
  }
  const full = join(layer, dir, ...rest);
  mkdirSync(join(full, '..'), { recursive: true });
  return full;
}

/** Copies a tree (the staged meshwan, OpenWrt's base files) into the layer, top directories mapped by layerPath. */
function copyIntoLayer(tree: string, layer: string): void {
  for (const top of readdirSync(tree))
    cpSync(join(tree, top), layerPath(layer, top), { recursive: true, verbatimSymlinks: true, force: true });
}

/** Starts procd for a test; stopped and removed at teardown. */
export async function startProcd(t: Teardowns): Promise<Procd> {
  const p = new Procd(t);
  await p.start();
  return p;
}
