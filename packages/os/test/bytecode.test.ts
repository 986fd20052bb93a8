/**
 * QuickJS bytecode is the same bytes on every host (packages/os/quickjs-patches): the host's meshwan-js compiles
 * what big-endian MIPS runs. Stock 2025-04-26 left regexp literals' compiled form in host byte order, so x86-64's
 * bytecode crashed ath79 at its first regexp. Runs the mips_24kc engine under qemu-user (no root needed).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { engineCommand, type Target, tempDir } from './lib/probe.js';

const fixture = new URL('fixtures/regexps.js', import.meta.url).pathname;

function run(argv: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const [command = '', ...args] = argv;
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function compile(target: Target, out: string): Buffer {
  const r = run([...engineCommand(target), '--compile', fixture, out]);
  if (r.status !== 0) throw new Error(`meshwan-js (${target}) --compile: ${r.status}: ${r.stderr}`);
  return readFileSync(out);
}

t.test('the host and mips_24kc engines write the same bytecode, and each runs the other', (t) => {
  const dir = tempDir(t);
  const node = run([process.execPath, fixture]);
  t.equal(node.status, 0, node.stderr);
  t.equal(node.stdout.split('\n').length, 21, "Node's reference: twenty regexps");
  const host = compile('host', join(dir, 'host.qbc'));
  const mips = compile('mips_24kc', join(dir, 'mips.qbc'));
  t.ok(host.equals(mips), `byte-identical (${host.length} bytes)`);
  const onMips = run([...engineCommand('mips_24kc'), join(dir, 'host.qbc')]);
  t.equal(onMips.status, 0, onMips.stderr);
  t.equal(onMips.stdout, node.stdout, "the host's bytecode on big-endian MIPS matches as Node does");
  const onHost = run([...engineCommand('host'), join(dir, 'mips.qbc')]);
  t.equal(onHost.stdout, node.stdout, "mips_24kc's bytecode on the host matches as Node does");
  t.end();
});

t.test('a big-endian reader refuses a regexp constant that is not a regexp, with an error, not a crash', (t) => {
  const dir = tempDir(t);
  const source = join(dir, 'one.js');
  writeFileSync(source, 'console.log(/ab+c/.test("xabbc"));\n');
  const bad = join(dir, 'bad.qbc');
  const r = run([...engineCommand('host'), '--compile', source, bad]);
  t.equal(r.status, 0, r.stderr);
  const bytes = readFileSync(bad);
  // The regexp's compiled form, as the bytecode stores it: a string (leb128 length << 1), then the header: flags
  // (0), capture count (1), stack size, and the length of its opcodes, u32 little-endian, that make up the rest.
  let at = -1;
  for (let i = 0; i + 8 < bytes.length; i++) {
    const length = bytes.readUInt32LE(i + 4);
    if (bytes[i] === (7 + length) << 1 && bytes[i + 1] === 0 && bytes[i + 2] === 1 && length > 0 && length < 60) at = i + 4;
  }
  t.not(at, -1, "found the regexp's length field");
  bytes.writeUInt32LE(0x7fffffff, at);
  writeFileSync(bad, bytes);
  const ran = run([...engineCommand('mips_24kc'), bad]);
  t.equal(ran.status, 1, 'exit 1');
  t.match(ran.stderr, /bad\.qbc is not bytecode of this engine.*invalid regexp in bytecode/s, ran.stderr);
  t.end();
});
