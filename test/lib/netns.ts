// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The one shared helper for tests that need network namespaces. Every namespace gets this run's unique prefix,
 * its teardown is registered before it is created, processes are stopped by PID (never by name), and topologies
 * are built from veth pairs (dummy, vrf, wireguard and gre do not work on this kernel).
 * Addresses: documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and ULA fd00::/8.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

/** What tap's `t` offers that we need; kept minimal so plain scripts (make sim) can pass their own. */
export interface Teardowns {
  teardown(fn: () => void | Promise<void>): void;
}

/** A prefix unique to this process: `mw` + 6 hex chars. Interface names stay under 15 chars when short names are used. */
const runPrefix = `mw${randomBytes(3).toString('hex')}`;
let counter = 0;

class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly command: readonly string[],
    readonly status: number | null,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')}: exit ${status}: ${stderr.trim()}`);
  }
}

/** Runs a command to completion; throws CommandError with its stderr on non-zero exit. Returns stdout. */
export function run(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new CommandError([command, ...args], result.status, result.stderr);
  return result.stdout;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export class Namespace {
  constructor(readonly name: string) {}

  /** Runs a command inside the namespace; returns stdout, throws CommandError on failure. */
  exec(command: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, command, ...args]);
  }

  /** Like exec, but returns status and output instead of throwing. */
  try(command: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync('ip', ['netns', 'exec', this.name, command, ...args], { encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** `ip ARGS` in the namespace. */
  ip(...args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  /** `ip -j ARGS` parsed. */
  ipJson<T = unknown>(...args: string[]): T {
    const out = run('ip', ['-j', '-n', this.name, ...args]).trim();
    return JSON.parse(out === '' ? '[]' : out) as T;
  }

  /** Writes a sysctl inside the namespace, e.g. sysctl('net.ipv6.conf.all.forwarding', '1'). */
  sysctl(key: string, value: string): void {
    this.exec('sysctl', '-qw', `${key}=${value}`);
  }

  /** Starts a long-running process inside the namespace; it is killed by PID at teardown. */
  spawn(t: Teardowns, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'pipe', ...options });
    t.teardown(() => stopProcess(child));
    return child;
  }
}

/** Stops a child by PID: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Creates a namespace named `${runPrefix}-${label}-${n}` with loopback up. Its deletion (which also removes
 * its veths) is registered before it is created, so a failing test never leaves it behind.
 */
export function createNamespace(t: Teardowns, label: string): Namespace {
  const name = `${runPrefix}-${label}-${counter++}`;
  t.teardown(() => {
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  });
  run('ip', ['netns', 'add', name]);
  const ns = new Namespace(name);
  ns.ip('link', 'set', 'lo', 'up');
  return ns;
}

/** Connects two namespaces with a veth pair named `nameA` (in a) and `nameB` (in b), both up. */
export function connect(a: Namespace, nameA: string, b: Namespace, nameB: string): void {
  // Created in `a` directly, so a name clash with the host's interfaces is impossible.
  a.ip('link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB, 'netns', b.name);
  a.ip('link', 'set', nameA, 'up');
  b.ip('link', 'set', nameB, 'up');
}

/** One end of a veth link: its namespace, its device name and the addresses (CIDR) it gets. */
export interface LinkEnd {
  readonly ns: Namespace;
  readonly dev: string;
  readonly addresses?: readonly string[];
}

/** Connects two namespaces (connect) and gives each end its addresses (addAddress): one wire of a topology. */
export function link(a: LinkEnd, b: LinkEnd): void {
  connect(a.ns, a.dev, b.ns, b.dev);
  for (const end of [a, b]) for (const cidr of end.addresses ?? []) addAddress(end.ns, end.dev, cidr);
}

/** Adds an address with DAD off, so IPv6 addresses are usable at once (no tentative state in tests). */
export function addAddress(ns: Namespace, dev: string, cidr: string): void {
  if (cidr.includes(':')) ns.ip('-6', 'addr', 'add', cidr, 'dev', dev, 'nodad');
  else ns.ip('addr', 'add', cidr, 'dev', dev);
}

/** Calls `fn` with each whole line `stream` gives (a line split across chunks is joined first). */
export function onLines(stream: Readable | null | undefined, fn: (line: string) => void): void {
  let rest = '';
  stream?.on('data', (c: Buffer) => {
    rest += c.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) fn(line);
  });
}

/** Waits until `check` returns true, polling every `intervalMs`; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Deletes namespaces left by earlier runs of *this* prefix only (never touches other runs'). */
export function namespacesOfThisRun(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${runPrefix}-`));
}
