/**
 * The seam's conformance harness: one TypeScript program (test/fixtures/*.ts) bundled by mk/bundle.mjs for each
 * engine and run on it — Node, and meshwan-js on the host or under qemu-user for a router's ABI. A suite asserts
 * the engines print the same thing, so both implementations of @meshwan/os keep one behaviour.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { engine as engineBinary, engineCommand, type Target } from './probe.js';

const packageDir = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const repoRoot = resolve(packageDir, '..', '..');

/** Where a program runs: Node, or a meshwan-js build. */
export type Runtime = 'node' | Target;

export interface Ran {
  status: number | null;
  /** The signal that ended it (status null then). */
  signal: string | null;
  /** The pid this harness started (a wrapper that execs, as `ip netns exec` and qemu-user do, keeps it). */
  pid: number;
  stdout: string;
  stderr: string;
}

interface BundleModule {
  bundleFor(entry: string, outfile: string, engine: 'node' | 'quickjs'): Promise<unknown>;
}

async function bundler(): Promise<BundleModule> {
  const loaded: unknown = await import(join(repoRoot, 'mk', 'bundle.mjs'));
  if (typeof loaded !== 'object' || loaded === null || !('bundleFor' in loaded) || typeof loaded.bundleFor !== 'function') {
    throw new Error('mk/bundle.mjs does not export bundleFor');
  }
  const bundleFor = loaded.bundleFor;
  return { bundleFor: (entry, outfile, engine) => bundleFor(entry, outfile, engine) };
}

/** A temporary directory removed when the test ends. */
export function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-seam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Bundles `fixture` (a path under test/fixtures) for `runtime`'s engine into `dir`; returns the bundle's path. */
export async function bundleFixture(fixture: string, runtime: Runtime, dir: string): Promise<string> {
  // On Node the program runs from its source through the test loader (mk/ts-register.mjs), importing the built
  // package (dist/, with tsc's source maps): the same code as a bundle, and what it covers counts for src/.
  if (runtime === 'node') return join(packageDir, 'test', 'fixtures', fixture);
  const engine = 'quickjs';
  const out = join(dir, `${fixture.replace(/\W/g, '_')}.${engine}.mjs`);
  await (await bundler()).bundleFor(join(packageDir, 'test', 'fixtures', fixture), out, engine);
  return out;
}

/** One compile per bytecode file: the runtimes of a suite share it. */
const compiled = new Map<string, Promise<string>>();

/**
 * Bundles any entry (a package's src or dist file) for `runtime`'s engine into `dir`; returns what that runtime
 * runs: the bundle for Node, and for meshwan-js the bundle compiled to bytecode by the host's build, as staging
 * does (bytecode is the same bytes from every host since packages/os/quickjs-patches, so a router's build under
 * qemu-user runs what the host compiled). Under qemu-user, parsing the source on every start costs about a second
 * of CPU; the bytecode a tenth of that.
 */
export async function bundleEntry(entry: string, runtime: Runtime, dir: string): Promise<string> {
  const engine = runtime === 'node' ? 'node' : 'quickjs';
  const out = join(dir, `${entry.replace(/^.*\//, '').replace(/\W/g, '_')}.${engine}.mjs`);
  if (runtime === 'node') {
    await (await bundler()).bundleFor(entry, out, engine);
    return out;
  }
  const qbc = out.replace(/\.mjs$/, '.qbc');
  let pending = compiled.get(qbc);
  if (pending === undefined) {
    pending = (async () => {
      await (await bundler()).bundleFor(entry, out, engine);
      const ran = await runProgram([engineBinary('host'), '--compile', out, qbc]);
      if (ran.status !== 0) throw new Error(`meshwan-js --compile ${out}: exit ${ran.status}: ${ran.stderr}`);
      return qbc;
    })();
    compiled.set(qbc, pending);
  }
  return pending;
}

/**
 * Runs a bundle on `runtime` with `args` and `env` (added to this process's), to its end; `wrapper` goes first
 * (`ip netns exec NAME`: qemu-user cannot enter a namespace for its guest, so the whole process starts there).
 */
export function runBundle(
  bundle: string,
  runtime: Runtime,
  args: readonly string[],
  env: Record<string, string> = {},
  wrapper: readonly string[] = [],
): Promise<Ran> {
  return runProgram(
    [
      ...wrapper,
      ...(runtime === 'node'
        ? [process.execPath, ...(bundle.endsWith('.ts') ? ['--import', join(repoRoot, 'mk', 'ts-register.mjs')] : []), bundle, ...args]
        : [...engineCommand(runtime), bundle, ...args]),
    ],
    env,
  );
}

/** A stream's whole text, once it ends. */
async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream.setEncoding('utf8')) out += String(chunk);
  return out;
}

async function runProgram(argv: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  const [command = '', ...args] = argv;
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close' comes once both pipes have ended; once() rejects on 'error' (a program that cannot start).
  const [stdout, stderr, [status, signal]] = await Promise.all([text(child.stdout), text(child.stderr), once(child, 'close')]);
  return {
    status: typeof status === 'number' ? status : null,
    signal: typeof signal === 'string' ? signal : null,
    pid: child.pid ?? 0,
    stdout,
    stderr,
  };
}
