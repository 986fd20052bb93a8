/** The batched UDP I/O against real loopback sockets: batches, sources, replies, refusals, oversize datagrams. */
import { createSocket, type Socket } from 'node:dgram';
import t from 'tap';
import { requireParts } from '../../../test/lib/require.js';
import { BatchIo, batchAddon, Peer, peerOf } from '../src/batch-io.js';
import { MarkError } from '../src/errors.js';
import { loadAddon } from '../src/mark.js';

const addon = batchAddon(loadAddon());

requireParts(!addon && "wan-dns's native addon with batch I/O (packages/os/build/netio.node: make native)");

t.test('without the addon there is no batched I/O', async (t) => {
  t.equal(batchAddon(new MarkError('load', 1, 'ENOENT')), undefined);
  t.ok(addon, 'packages/os build/netio.node has it');
});

const client = async (type: 'udp4' | 'udp6', address: string): Promise<Socket> => {
  const s = createSocket(type);
  await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
  return s;
};

t.test('a burst arrives in batches; replies go back to each source; sources are checked', async (t) => {
  const a = addon as NonNullable<typeof addon>;
  const errors: unknown[] = [];
  const io = new BatchIo(a, (err) => errors.push(err));
  t.teardown(() => io.close());
  const v4 = peerOf(a, 4, '127.0.0.1', 0) as Peer;
  const v6 = peerOf(a, 6, '::1', 0) as Peer;
  t.equal(peerOf(a, 4, 'not-an-address', 0), undefined);
  const fd4 = a.udpSocket(4, v4.bytes(), 0, 0);
  const fd6 = a.udpSocket(6, v6.bytes(), 0, 0);
  const port4 = a.localPort(fd4);
  const port6 = a.localPort(fd6);
  const seen: string[] = [];
  let thrown = false;
  const handler = (fd: number) => ({
    onDatagram(msg: Uint8Array, i: number): void {
      const text = Buffer.from(msg).toString();
      if (text === 'throw' && !thrown) {
        thrown = true;
        throw new Error('handler bug');
      }
      seen.push(`${text} ${io.sourceText(i)} ${io.fromLoopback(i)}`);
      const src = io.source(i);
      t.ok(io.sourceIs(i, src), 'a datagram comes from its own source');
      t.notOk(io.sourceIs(i, new Peer(src.family, src.w0, src.w1, src.w2, src.w3, src.port + 1, 0)), 'not from another port');
      t.equal(io.sourcePort(i), src.port);
      if (text.startsWith('later')) setTimeout(() => io.sendTo(fd, src, Buffer.from(`re:${text}`)), 5);
      else io.replyTo(fd, i, Buffer.from(`re:${text}`));
    },
    onTruncated(): void {
      seen.push('truncated');
    },
  });
  const tag4 = io.add(fd4, handler(fd4));
  const tag6 = io.add(fd6, handler(fd6));
  const c4 = await client('udp4', '127.0.0.1');
  const c6 = await client('udp6', '::1');
  const got: string[] = [];
  const done = new Promise<void>((resolve) => {
    const on = (m: Buffer): void => {
      got.push(m.toString());
      if (got.length === 102) resolve();
    };
    c4.on('message', on);
    c6.on('message', on);
  });
  for (let k = 0; k < 100; k++) c4.send(`q${k}`, port4, '127.0.0.1');
  c4.send('throw', port4, '127.0.0.1');
  c6.send('later6', port6, '::1');
  c4.send('later4', port4, '127.0.0.1');
  c4.send(Buffer.alloc(5000), port4, '127.0.0.1');
  await done;
  t.equal(got.filter((g) => g.startsWith('re:q')).length, 100, 'every query answered');
  t.ok(got.includes('re:later6') && got.includes('re:later4'), 'replies sent outside a batch');
  t.ok(seen.includes('truncated'), 'a datagram over 4096 bytes is reported, not passed on');
  t.ok(seen.some((s) => /^later6 ::1 true$/.test(s)));
  t.ok(seen.some((s) => /^q0 127\.0\.0\.1 true$/.test(s)));
  t.equal(errors.length, 1, 'a handler exception is reported, the batch goes on');
  t.ok(io.batches >= 1 && io.datagrams >= 104);
  t.ok(io.batches < io.datagrams, 'more than one datagram per batch');
  // A send the kernel refuses (port 0) is skipped and counted, the rest of the batch still goes.
  io.sendTo(fd4, new Peer(4, v4.w0, 0, 0, 0, 0, 0), Buffer.from('x'));
  t.equal(io.sendFailures, 1);
  t.throws(() => a.udpSocket(4, v4.bytes(), port4, 0), { code: 'EADDRINUSE' });
  io.remove(fd4, tag4);
  io.remove(fd6, tag6);
  a.closeFd(fd4);
  a.closeFd(fd6);
  c4.close();
  c6.close();
});
