/** Small DNS clients for tests: raw UDP/TCP exchanges, a fake upstream, and dig as the independent witness. */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createConnection } from 'node:net';
import dnsPacket from 'dns-packet';
import { type DigResult, digArgv, runDig } from '../../../../test/lib/dig.js';
import type { Teardowns } from '../../../../test/lib/netns.js';

export function query(name: string, type: dnsPacket.RecordType = 'A', extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: (Math.random() * 0x10000) | 0,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
    ...extra,
  });
}

/** Sends one datagram, resolves with the first answer or undefined after `timeoutMs`. */
export function udpExchange(host: string, port: number, msg: Uint8Array, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

/** Sends length-prefixed messages on one TCP connection, resolves with as many answers (any order). */
export function tcpExchange(host: string, port: number, msgs: readonly Uint8Array[], timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, timeoutMs);
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) {
        clearTimeout(timer);
        socket.end();
        resolve(out);
      }
    });
    socket.on('connect', () => {
      for (const m of msgs) {
        const framed = Buffer.alloc(2 + m.length);
        framed.writeUInt16BE(m.length, 0);
        framed.set(m, 2);
        socket.write(framed);
      }
    });
  });
}

export interface FakeUpstream {
  readonly port: number;
  readonly received: Buffer[];
  readonly socket: Socket;
}

/** A UDP "server" on 127.0.0.1 whose answers the test decides (or none). */
export async function fakeUpstream(t: Teardowns, answer: (msg: Buffer, rinfo: RemoteInfo, socket: Socket) => void): Promise<FakeUpstream> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    answer(msg, rinfo, socket);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => {
    socket.close();
  });
  return { port: socket.address().port, received, socket };
}

/** A free UDP port on 127.0.0.1 with nothing behind it (bound, then closed). */
export async function deadPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  s.close();
  return port;
}

export type { DigResult } from '../../../../test/lib/dig.js';

/**
 * dig (test/lib/dig.ts) as the independent witness; `args` go before the name (e.g. '+tcp'). Asynchronous: the
 * daemon under test may run in this very process. `prefix` runs it elsewhere, e.g. ['ip', 'netns', 'exec', NAME].
 */
export function dig(server: string, port: number, name: string, type = 'A', ...args: string[]): Promise<DigResult> {
  return digIn([], server, port, name, type, ...args);
}

export function digIn(
  prefix: readonly string[],
  server: string,
  port: number,
  name: string,
  type = 'A',
  ...args: string[]
): Promise<DigResult> {
  return runDig([...prefix, ...digArgv({ server, port, name, type, timeoutSeconds: 3, options: args })]);
}
