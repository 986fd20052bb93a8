// The development entries (node_modules/.bin/NAME) of every command the router runs on QuickJS start that build:
// meshwan-js with the bytecode `make all` staged (mk/dev-entry.sh), never Node, so running or benchmarking a
// command here measures the router's runtime. The QuickJS packages are those package.json marks
// `"meshwan": { "runtime": "quickjs" }`; their Node-only commands (meshwan.nodeCommands) are left out.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const root = new URL('..', import.meta.url).pathname;

interface Manifest {
  bin?: Record<string, string>;
  meshwan?: { runtime?: string; nodeCommands?: string[] };
}

function quickjsCommands(): string[] {
  const out: string[] = [];
  for (const dir of [...readdirSync(join(root, 'packages')).map((d) => join('packages', d)), 'upgrade-scripts']) {
    const manifest: Manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    if (manifest.meshwan?.runtime !== 'quickjs') continue;
    for (const name of Object.keys(manifest.bin ?? {})) if (!manifest.meshwan.nodeCommands?.includes(name)) out.push(name);
  }
  return out.sort();
}

t.test('each QuickJS command runs as the router build from node_modules/.bin, with Node out of reach', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-dev-entries-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A `node` first on PATH that leaves a mark and fails: an entry that reached for Node would be seen.
  const stub = join(dir, 'bin');
  mkdirSync(stub);
  writeFileSync(join(stub, 'node'), `#!/bin/sh\necho "$@" >> ${join(dir, 'node-called')}\nexit 127\n`, { mode: 0o755 });
  const commands = quickjsCommands();
  t.ok(commands.length >= 6, `QuickJS commands: ${commands.join(', ')}`);
  for (const name of commands) {
    // A flag no command has: each answers with its own usage error, which only the command itself can print.
    const r = spawnSync(join(root, 'node_modules/.bin', name), ['--no-such-flag'], {
      encoding: 'utf8',
      env: { PATH: `${stub}:/usr/bin:/bin` },
    });
    // Not by its exit code: 127 is also meshwan-wan's own answer (it runs `--no-such-flag` as a command, not found).
    t.notMatch(r.stderr, /run make all|dev-entry\.sh/, `${name}: started (${r.stderr.trim().split('\n')[0]})`);
    t.match(`${r.stdout}${r.stderr}`, /usage|unknown|invalid|no-such-flag/i, `${name}: its own answer to a bad flag`);
  }
  // The only other engine these commands have is Node: the stub shows none of them reached for it.
  t.throws(() => readFileSync(join(dir, 'node-called')), 'Node was never called');
  t.end();
});
