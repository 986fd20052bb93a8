// Crash safety (SIGKILL at random moments of a commit loop) and multi-process commits to one package, on the
// engine a router runs uci with (meshwan-js, the child bundled and compiled to bytecode as staging ships it).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { engine } from '../../os/test/lib/probe.js';
import { bundleEntry, scratch } from '../../os/test/lib/seam.js';
import { parseUci, UciParseError } from '../src/index.js';

// Child processes start slowly on a loaded machine; this file needs more than tap's default 30 s.
t.setTimeout(150_000);

const childEntry = fileURLToPath(new URL('./fixtures/durability-child.ts', import.meta.url));
const bundles = scratch(t);
const children = { host: await bundleEntry(childEntry, 'host', bundles), node: await bundleEntry(childEntry, 'node', bundles) };
// The Node bundle finds the seam's addon beside it, as staging installs it.
copyFileSync(fileURLToPath(new URL('../../os/build/netio.node', import.meta.url)), join(bundles, 'netio.node'));
const meshwanJs = engine('host');

function dirs(t: { teardown(fn: () => void): void }): { conf: string; save: string } {
  const root = mkdtempSync(join(tmpdir(), 'uci-dur-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const conf = join(root, 'conf');
  mkdirSync(conf);
  writeFileSync(join(conf, 'p'), "config t 'x'\n\toption v 'v0;'\n\toption n '0'\n");
  return { conf, save: join(root, 'save') };
}

function run(args: string[], runtime: 'host' | 'node' = 'host', env: NodeJS.ProcessEnv = process.env) {
  const argv = runtime === 'node' ? [process.execPath, children.node, ...args] : [meshwanJs, children.host, ...args];
  return spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
}

function exited(c: ReturnType<typeof run>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((r) => {
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('exit', (code) => r({ code, stderr }));
  });
}

/** Problems with a committed file: it must parse and hold one whole version (`v<i>;` repeated, n = i). */
function problems(text: string): string[] {
  let p: ReturnType<typeof parseUci>;
  try {
    p = parseUci(text, { package: 'p' });
  } catch (err: unknown) {
    return [`does not parse: ${err instanceof UciParseError ? err.message : String(err)}`];
  }
  const x = p.sections.find((s) => s.name === 'x');
  const v = x?.options.find((o) => o.name === 'v')?.value;
  const n = x?.options.find((o) => o.name === 'n')?.value;
  if (typeof v !== 'string' || typeof n !== 'string') return ['option v or n missing'];
  const unit = `v${n};`;
  return v.length % unit.length === 0 && v === unit.repeat(v.length / unit.length) ? [] : [`value is not whole version ${n}`];
}

t.test('SIGKILL at any moment of a commit leaves the old file or the new one', async (t) => {
  const { conf, save } = dirs(t);
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const versions = new Set<string>();
  for (let round = 0; round < 10; round++) {
    const c = run(['crash', conf, save, '0', '0']);
    // Let it make a random number of commits, then kill it wherever it is in the next one.
    const commits = 1 + Math.floor(rnd() * 40);
    await new Promise<void>((r) => {
      let seen = '';
      c.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.split('\n').length > commits) r();
      });
    });
    await new Promise((r) => setTimeout(r, Math.floor(rnd() * 5)));
    c.kill('SIGKILL');
    await new Promise((r) => c.on('exit', r));
    const text = readFileSync(join(conf, 'p'), 'latin1');
    t.same(problems(text), [], `round ${round}: old or new file, whole`);
    versions.add(/option n '(\d+)'/.exec(text)?.[1] ?? '');
  }
  t.ok(versions.size > 3, `killed at many different points (${versions.size} distinct versions)`);
  const leftovers = readdirSync(conf).filter((f) => f !== 'p');
  t.ok(
    leftovers.every((f) => /^\.p\.uci-/.test(f)),
    'only temp files may be left behind',
  );
});

t.test('several processes committing to one package lose no change', async (t) => {
  const { conf, save } = dirs(t);
  const procs = 4;
  const count = 15;
  const children = Array.from({ length: procs }, (_, id) => run(['concurrent', conf, save, String(id), String(count)]));
  const codes = await Promise.all(
    children.map(
      (c) =>
        new Promise<number | null>((r) => {
          let err = '';
          c.stderr?.on('data', (d: Buffer) => {
            err += d.toString();
          });
          c.on('exit', (code) => {
            if (code !== 0) t.comment(err);
            r(code);
          });
        }),
    ),
  );
  t.same(codes, Array(procs).fill(0), 'all children succeed');
  const p = parseUci(readFileSync(join(conf, 'p')), { package: 'p' });
  const x = p.sections.find((s) => s.name === 'x');
  const names = new Set(x?.options.map((o) => o.name));
  const items = x?.options.find((o) => o.name === 'items')?.value;
  for (let id = 0; id < procs; id++) {
    for (let i = 0; i < count; i++) t.ok(names.has(`o${id}_${i}`), `option o${id}_${i} committed`);
  }
  t.ok(Array.isArray(items));
  if (Array.isArray(items)) {
    t.equal(items.length, procs * count, 'every list item once');
    t.equal(new Set(items).size, procs * count);
  }
  t.equal(readFileSync(join(save, 'p'), 'utf8'), '', 'nothing left staged');
});

t.test('on Node without the addon, flock(1) on an inherited descriptor serializes commits too', async (t) => {
  const { conf, save } = dirs(t);
  const env = { ...process.env, MESHWAN_OS_NO_ADDON: '1' };
  const results = await Promise.all([0, 1].map((id) => exited(run(['concurrent', conf, save, String(id), '4'], 'node', env))));
  t.same(
    results.map((r) => r.code),
    [0, 0],
    results.map((r) => r.stderr).join(''),
  );
  const x = parseUci(readFileSync(join(conf, 'p')), { package: 'p' }).sections.find((s) => s.name === 'x');
  const items = x?.options.find((o) => o.name === 'items')?.value;
  t.same(Array.isArray(items) ? [...items].sort() : items, ['0-0', '0-1', '0-2', '0-3', '1-0', '1-1', '1-2', '1-3']);
});
