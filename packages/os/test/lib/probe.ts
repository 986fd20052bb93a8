/**
 * Runs test/fixtures/probe.js on a meshwan-js build (native, or under qemu-user for a router's ABI) inside a fresh
 * network namespace whose routing tables hold a few hundred routes, and returns what the probe saw beside what
 * `ip` sees. The build is made first (`make -C packages/os TARGET=…`, a no-op when up to date): a missing part
 * fails the test, it is never skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNamespace, type Namespace, type Teardowns } from '../../../../test/lib/netns.js';

const packageDir = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const repoRoot = resolve(packageDir, '..', '..');
export const probeSource = join(packageDir, 'test', 'fixtures', 'probe.js');

export type Target = 'host' | 'host-musl' | 'mips_24kc' | 'mipsel_24kc' | 'aarch64';

/** How a target's binary is started here: directly, or by qemu-user with the cross libc's sysroot. */
const runners: Record<Target, readonly string[]> = {
  host: [],
  'host-musl': [],
  mips_24kc: ['qemu-mips-static', '-L', '/usr/mips-linux-gnu'],
  mipsel_24kc: ['qemu-mipsel-static', '-L', '/usr/mipsel-linux-gnu'],
  aarch64: ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'],
};

export const underQemu = (target: Target): boolean => runners[target].length > 0;

/** The argv that starts the target's meshwan-js here (qemu-user first for a router's ABI); builds it once. */
export const engineCommand = (target: Target): string[] => [...runners[target], engine(target)];

const built = new Set<Target>();

/**
 * Builds the target's meshwan-js (and the host's) once per process (a suite asks before every run); returns its
 * path.
 */
export function engine(target: Target): string {
  for (const want of new Set<Target>(['host', target])) {
    if (built.has(want)) continue;
    // One make at a time across the suites' processes (flock on build/): the first builds, the rest find it done.
    mkdirSync(join(repoRoot, 'build'), { recursive: true });
    const lock = join(repoRoot, 'build', '.engine-make.lock');
    const made = spawnSync(
      'flock',
      [lock, 'make', '--no-print-directory', '-C', packageDir, `TARGET=${want}`, `${repoRoot}/build/${want}/meshwan-js`],
      {
        encoding: 'utf8',
      },
    );
    if (made.status !== 0) throw new Error(`make TARGET=${want} failed (${made.status}): ${made.stderr.slice(-2000)}`);
    built.add(want);
  }
  return join(repoRoot, 'build', target, 'meshwan-js');
}

export interface ProbeResult {
  exchange: {
    mark: { value?: number; error?: string; syscall?: string };
    device: { value?: string; error?: string };
    sent: number;
    received: string;
  };
  batch: { sent: number; refused: number; received: number; inOrder: boolean; drains: number; largest: number };
  dump: { routes: number };
  monitor: { added: number; deleted: number; events: number[] };
  badFd: { code: string; syscall?: string };
  littleEndian: boolean;
}

export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` to its end without blocking the event loop; a generous deadline (the machine is busy). */
export function runAsync(command: readonly string[], env: NodeJS.ProcessEnv = process.env, deadlineMs = 180_000): Promise<Outcome> {
  return new Promise((done, failed) => {
    const [file, ...args] = command;
    if (file === undefined) throw new Error('runAsync: empty command');
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('error', failed);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

/** A namespace with lo up and 2 × 200 routes in tables 1 and 2 (more than one netlink dump message's worth). */
export function routedNamespace(t: Teardowns): Namespace {
  const ns = createNamespace(t, 'os');
  const lines = ['route add unreachable default table 1'];
  for (let i = 0; i < 200; i++) {
    lines.push(`route add 198.51.${100 + (i >> 8)}.${i & 255}/32 dev lo table 1`);
    lines.push(`route add 203.0.113.${i & 255}/32 dev lo table 2 metric ${i >> 8}`);
  }
  const batch = spawnSync('ip', ['-n', ns.name, '-batch', '-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (batch.status !== 0) throw new Error(`ip -batch: ${batch.stderr}`);
  return ns;
}

/** IPv4 routes of every table as `ip` counts them: the witness for the probe's RTM_GETROUTE dump. */
export function ipRouteCount(ns: Namespace): number {
  return ns
    .ip('-4', 'route', 'show', 'table', 'all')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

/** A temp dir removed at teardown. */
export function tempDir(t: Teardowns): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-os-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Compiles the probe to bytecode with the host engine (bytecode is the same for every target). */
export async function compileProbe(t: Teardowns): Promise<string> {
  const out = join(tempDir(t), 'probe.qbc');
  const r = await runAsync([engine('host'), '--compile', probeSource, out]);
  if (r.status !== 0) throw new Error(`meshwan-js --compile: ${r.status}: ${r.stderr}`);
  return out;
}

/** Runs the probe (source or bytecode) on the target's engine inside ns. */
export async function probe(ns: Namespace, target: Target, script: string): Promise<ProbeResult> {
  const r = await runAsync(['ip', 'netns', 'exec', ns.name, ...engineCommand(target), script]);
  if (r.status !== 0) throw new Error(`probe on ${target} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeResult;
}
