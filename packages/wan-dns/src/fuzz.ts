/**
 * Hostile packets for the fuzz test (`make test`, 100k) and the bench (1M): well-formed queries of many shapes,
 * mutated by bit flips, byte stores, truncation, random tails, header-count lies, compression loops, and pure
 * noise. Deterministic for a seed (xorshift32), so a failure can be replayed.
 */
import { Buffer } from 'buffer';
import dnsPacket from 'dns-packet';

export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Valid queries the mutations start from. */
export function corpus(): Buffer[] {
  const q = (p: Partial<dnsPacket.Packet>): Buffer =>
    dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, ...p } as dnsPacket.Packet);
  const types: dnsPacket.RecordType[] = ['A', 'AAAA', 'TXT', 'MX', 'SOA', 'NS', 'PTR', 'SRV', 'CAA', 'HINFO'];
  const out = types.map((type) => q({ questions: [{ type, name: 'www.example.test' }] }));
  out.push(
    q({
      questions: [{ type: 'A', name: 'big.example.test' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as dnsPacket.Answer],
    }),
  );
  out.push(
    q({
      questions: [{ type: 'TXT', name: 'a.b.c.d.e.f.g.example.test' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 512, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } as unknown as dnsPacket.Answer,
      ],
    }),
  );
  out.push(q({ questions: [{ type: 'A', name: `${'x'.repeat(63)}.example.test` }] }));
  out.push(
    q({ questions: [{ type: 'A', name: 'nx.example.test' }], answers: [{ type: 'A', name: 'nx.example.test', data: '192.0.2.1' }] }),
  );
  return out;
}

/** One hostile packet derived from `base` (or noise), using `next` for randomness. */
export function mutate(base: Buffer, next: () => number): Buffer {
  const kind = next() % 10;
  const buf = Buffer.from(base);
  switch (kind) {
    case 0: {
      const n = 1 + (next() % 4);
      for (let i = 0; i < n; i++) {
        const at = next() % buf.length;
        buf[at] = (buf[at] as number) ^ (1 << (next() % 8));
      }
      return buf;
    }
    case 1: {
      const n = 1 + (next() % 6);
      for (let i = 0; i < n; i++) buf[next() % buf.length] = next() & 0xff;
      return buf;
    }
    case 2:
      return buf.subarray(0, next() % buf.length);
    case 3: {
      const tail = Buffer.alloc(next() % 64);
      for (let i = 0; i < tail.length; i++) tail[i] = next() & 0xff;
      return Buffer.concat([buf, tail]);
    }
    case 4:
      // Counts that lie: many records announced, few present.
      buf.writeUInt16BE(next() & 0xffff, 4 + 2 * (next() % 4));
      return buf;
    case 5: {
      // A compression pointer to itself or forward, where a label should be.
      const at = 12 + (next() % Math.max(1, buf.length - 13));
      buf[at] = 0xc0;
      if (at + 1 < buf.length) buf[at + 1] = next() & 0xff;
      return buf;
    }
    case 6:
      // QR, opcode and rcode bits.
      buf.writeUInt16BE(next() & 0xffff, 2);
      return buf;
    case 7: {
      const noise = Buffer.alloc(next() % 600);
      for (let i = 0; i < noise.length; i++) noise[i] = next() & 0xff;
      return noise;
    }
    case 8:
      // Labels that claim more than the packet holds.
      buf[12] = 0x3f;
      return buf;
    default:
      return buf;
  }
}
