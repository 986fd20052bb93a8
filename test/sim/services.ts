/**
 * A small stand-in for procd: reads what a staged init script asks for (command, env, user, respawn) by sourcing
 * it in sh with procd's helper functions replaced by printers, maps the firmware's absolute paths into the staged
 * root, and runs the instance in the node's namespace, respawning it as procd would (after the respawn timeout).
 * When there is no init script yet (files/ has not landed), the documented default command line is used and the
 * service says so in `source`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Namespace, Teardowns } from '../lib/netns.js';
import { cleanArgv, type Firmware, firmwareEnv } from './firmware.js';

export interface ServiceSpec {
  name: string;
  /** argv as the init script wrote it (firmware paths). */
  command: string[];
  env: Record<string, string>;
  user?: string;
  /** procd respawn timeout in seconds (procd's default: 5). */
  respawnSeconds: number;
  /** Where the spec came from: "/etc/init.d/wan-dns" or "default (no init script)". */
  source: string;
}

/** Sourced around an init script: each procd_* call prints one tab-separated line. */
const procdShim = `
procd_open_instance() { echo "open"; }
procd_close_instance() { echo "close"; }
procd_set_param() { k="$1"; shift; printf 'set\\t%s' "$k"; for a in "$@"; do printf '\\t%s' "$a"; done; echo; }
procd_append_param() { k="$1"; shift; printf 'append\\t%s' "$k"; for a in "$@"; do printf '\\t%s' "$a"; done; echo; }
procd_add_reload_trigger() { :; }
procd_add_interface_trigger() { :; }
procd_open_trigger() { :; }
procd_close_trigger() { :; }
procd_add_jail() { :; }
procd_add_jail_mount() { :; }
config_load() { :; }
config_get() { eval "$1=\\"\\$4\\""; }
config_get_bool() { eval "$1=\\"\\$4\\""; }
config_foreach() { :; }
uci_get() { echo "$3"; }
. "$1"
start_service
`;

/** Parses the shim's output into the first instance's spec. */
function parseProcdOutput(name: string, source: string, output: string): ServiceSpec | undefined {
  const spec: ServiceSpec = { name, command: [], env: {}, respawnSeconds: 5, source };
  let opened = false;
  for (const line of output.split('\n')) {
    const [op, key, ...args] = line.split('\t');
    if (op === 'open') opened = true;
    if (op === 'close' && opened) break;
    if (op !== 'set' && op !== 'append') continue;
    if (key === 'command') spec.command = op === 'set' ? args : [...spec.command, ...args];
    else if (key === 'env') {
      for (const kv of args) {
        const i = kv.indexOf('=');
        if (i > 0) spec.env[kv.slice(0, i)] = kv.slice(i + 1);
      }
    } else if (key === 'user' && args[0]) spec.user = args[0];
    else if (key === 'respawn' && args[1] !== undefined) spec.respawnSeconds = Number(args[1]) || 5;
  }
  return spec.command.length > 0 ? spec : undefined;
}

/**
 * The init script's text with the firmware's absolute paths moved into the staged root, so sourcing it here
 * touches nothing of the host (its `mkdir -p /var/...` lands in the root), and with staged commands
 * (/usr/sbin/X) pointed at wrappers in `simBin` that run their bytecode on the staged meshwan-js.
 */
function rootedScript(fw: Firmware, text: string, simBin: string): string {
  return text
    .replace(/^#!.*\n/, '')
    .replace(/(^|[\s"'=:(`])(\/(?:usr|etc|var|lib|sbin|bin|tmp)\/[^\s"';)|&]*)/gm, (_m, pre: string, path: string) => {
      const command = /^\/usr\/s?bin\/([\w.-]+)$/.exec(path)?.[1];
      return `${pre}${command !== undefined && fw.command(command) !== undefined ? join(simBin, command) : `${fw.root}${path}`}`;
    });
}

/** Wrappers in `simBin` for every staged command the router runs: `exec ROOT/usr/bin/meshwan-js ROOT/usr/lib/meshwan/X.qbc "$@"`. */
function writeSimBin(fw: Firmware, simBin: string): void {
  mkdirSync(simBin, { recursive: true });
  const dir = join(fw.root, 'usr/lib/meshwan');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.qbc')) : [];
  for (const name of names.map((n) => n.slice(0, -'.qbc'.length))) {
    const head = fw.command(name) ?? [];
    writeFileSync(join(simBin, name), `#!/bin/sh\nexec ${head.join(' ')} "$@"\n`, { mode: 0o755 });
  }
}

/** The spec of service `name` from the staged /etc/init.d/NAME, else `fallback`. */
export function serviceSpec(fw: Firmware, name: string, fallback: string[]): ServiceSpec {
  const script = join(fw.root, 'etc/init.d', name);
  if (existsSync(script)) {
    const simDir = `${fw.root}.sim`;
    writeSimBin(fw, join(simDir, 'bin'));
    const rooted = join(simDir, `init.${name}`);
    writeFileSync(rooted, rootedScript(fw, readFileSync(script, 'utf8'), join(simDir, 'bin')));
    const [cmd = 'env', ...argv] = cleanArgv(['sh', '-c', procdShim, 'procd-shim', rooted]);
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: fw.root, timeout: 10_000 });
    const spec = parseProcdOutput(name, `/etc/init.d/${name}`, r.stdout);
    if (spec) return spec;
  }
  return { name, command: fallback, env: {}, respawnSeconds: 5, source: 'default (no init script)' };
}

/**
 * Maps a firmware argv to one that runs here: a wrapper (/usr/sbin/X, /usr/bin/X) becomes `ROOT/usr/bin/meshwan-js ROOT/usr/lib/meshwan/X.qbc`,
 * and absolute paths that exist in the staged root get the root prefixed. `extra` flags are added when absent.
 */
function localCommand(fw: Firmware, argv: readonly string[], extra: Record<string, string>): string[] {
  const [prog = '', ...rest] = argv;
  const name = prog.split('/').pop() ?? prog;
  const head = fw.command(name) ?? [prog];
  const mapped = rest.map((a) => (a.startsWith('/') && existsSync(join(fw.root, a)) ? join(fw.root, a) : a));
  for (const [flag, value] of Object.entries(extra)) {
    if (!mapped.includes(flag)) mapped.push(flag, value);
  }
  return [...head, ...mapped];
}

export interface Service {
  readonly spec: ServiceSpec;
  readonly argv: string[];
  readonly log: string;
  /** PID of the running instance, if any. */
  pid(): number | undefined;
  /** How many times it was respawned. */
  respawns(): number;
  /** Sends a signal to the running instance (e.g. SIGKILL, SIGHUP). */
  kill(signal: NodeJS.Signals): void;
  /** Stops it for good (no respawn). */
  stop(): Promise<void>;
}

/** Starts a service in `ns` and keeps it running as procd would. */
export function startService(t: Teardowns, ns: Namespace, fw: Firmware, spec: ServiceSpec, extra: Record<string, string>): Service {
  const argv = localCommand(fw, spec.command, extra);
  const env = firmwareEnv();
  for (const [k, v] of Object.entries(spec.env)) {
    // LD_PRELOAD=libpacketmark.so relies on the firmware's /usr/lib being in ld.so's path: give the staged one.
    const bare = k === 'LD_PRELOAD' && !v.includes('/') && existsSync(join(fw.root, 'usr/lib', v));
    env[k] = bare ? join(fw.root, 'usr/lib', v) : v.startsWith('/') && existsSync(join(fw.root, v)) ? join(fw.root, v) : v;
  }
  const log = join(fw.root, 'tmp', `${spec.name}.log`);
  spawnSync('mkdir', ['-p', join(fw.root, 'tmp')]);
  let child: ChildProcess | undefined;
  let stopped = false;
  let respawns = 0;
  let timer: NodeJS.Timeout | undefined;
  const launch = (): void => {
    const fd = openSync(log, 'a');
    // detached: its own process group, so a Ctrl-C reaches only the simulation, which then stops it by PID.
    const c = spawn('ip', ['netns', 'exec', ns.name, ...cleanArgv(argv, env)], { stdio: ['ignore', fd, fd], detached: true, cwd: fw.root });
    child = c;
    c.on('exit', () => {
      if (stopped) return;
      timer = setTimeout(() => {
        respawns++;
        launch();
      }, spec.respawnSeconds * 1000);
    });
  };
  launch();
  const service: Service = {
    spec,
    argv,
    log,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    respawns: () => respawns,
    kill: (signal) => {
      child?.kill(signal);
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const k = setTimeout(() => c.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(k);
    },
  };
  t.teardown(() => service.stop());
  return service;
}
