// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * 100k hostile packets (and some hostile TCP streams) against a running wan-dns process with NSD behind it:
 * the process stays up and keeps answering. (1M in `make bench`.)
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { startNsd } from '../../../test/lib/nsd.js';
import { requireParts } from '../../../test/lib/require.js';
import { corpus, mutate, rng } from '../src/fuzz.js';
import { deadPort, dig, query } from './lib/client.js';
import { bin, spawnWanDns } from './lib/process.js';
import { exampleZone } from './lib/zone.js';

requireParts(!isRoot() && 'needs root (SO_MARK)');

const count = Number(process.env.WAN_DNS_FUZZ_PACKETS ?? 100_000);

// Namespaces, NSD and real timeouts on a shared, busy machine: more than tap's default 30 s per file.
t.setTimeout(600_000);

t.test(`${count} mutated packets: the process stays up and keeps answering`, async (t) => {
  const nsd = await startNsd(t, exampleZone('fuzz'), { addresses: ['127.0.0.1'], port: await deadPort() });
  const port = await deadPort();
  const control = `/tmp/wan-dns-fuzz-${process.pid}.sock`;
  const args = ['--listen', `127.0.0.1:${port}`, '--server', `127.0.0.1:${nsd.port}`, '--cache-size', '100', '--control', control];
  const { child, output } = await spawnWanDns(t, args);
  const seeds = corpus();
  const next = rng(0x5eed);
  const socket = createSocket('udp4');
  let answers = 0;
  let sentinelAnswered: (() => void) | undefined;
  const sentinel = query('www.example.test');
  sentinel.writeUInt16BE(0xfeed, 0);
  socket.on('message', (m: Buffer) => {
    answers++;
    if (m.length >= 2 && m.readUInt16BE(0) === 0xfeed && m.length > 40) sentinelAnswered?.();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  // Closed loop: a batch, then a good query whose answer shows the batch was read (the machine may be busy;
  // an open-loop flood would only measure the kernel's receive buffer).
  let unanswered = 0;
  for (let sent = 0; sent < count; ) {
    for (let i = 0; i < 200 && sent < count; i++, sent++) {
      const packet = mutate(seeds[next() % seeds.length] as Buffer, next);
      if (packet.length >= 2 && packet.readUInt16BE(0) === 0xfeed) packet.writeUInt16BE(0xbeef, 0);
      socket.send(packet, port, '127.0.0.1');
    }
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 1000);
      sentinelAnswered = () => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.send(sentinel, port, '127.0.0.1');
    });
    if (!answered) unanswered++;
    if (child.exitCode !== null) break;
  }
  t.equal(child.exitCode, null, 'alive after the UDP flood');
  t.ok(unanswered < count / 2000, `good queries between the batches kept being answered (${unanswered} lost)`);
  // Hostile TCP: garbage after a length prefix, lying lengths, half messages, then hang up.
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => {
        const body = mutate(seeds[next() % seeds.length] as Buffer, next);
        const framed = Buffer.alloc(2 + body.length);
        framed.writeUInt16BE(i % 3 === 0 ? next() & 0xffff : body.length, 0);
        body.copy(framed, 2);
        c.end(i % 2 === 0 ? framed : framed.subarray(0, next() % framed.length));
      });
      c.on('error', () => resolve());
      c.on('close', () => resolve());
      c.resume();
    });
  }
  socket.close();
  t.equal(child.exitCode, null, 'still running');
  const status = JSON.parse(
    spawnSync(process.execPath, [bin, '--status', '--json', '--control', control], { encoding: 'utf8' }).stdout,
  ) as {
    counters: { queries: number; malformed: number; formerr: number; answers: number };
  };
  t.ok(status.counters.queries >= count, `received ${status.counters.queries}`);
  t.ok(
    status.counters.malformed > 0 && status.counters.formerr > 0,
    `${status.counters.malformed} malformed, ${status.counters.formerr} FORMERR`,
  );
  t.ok(answers > 0, `${answers} answers came back`);
  const r = await dig('127.0.0.1', port, 'www.example.test');
  t.equal(r.status, 'NOERROR', 'answers a normal query afterwards');
  t.match(r.records[0], /192\.0\.2\.80/);
  const tcp = await dig('127.0.0.1', port, 'www.example.test', 'A', '+tcp');
  t.equal(tcp.status, 'NOERROR', 'and over TCP');
  t.notMatch(output(), /TypeError|RangeError|Uncaught/, 'no exception logged');
});
