/**
 * The DNS probe's wire part (pure): the query it sends and the judgement of a reply. Decoding is wan-dns's
 * (walkMessage, sameQuestion), so a reply is read exactly as the forwarder reads it.
 */
import { RCODE_NOERROR, RCODE_NXDOMAIN, sameQuestion, walkMessage } from '@meshwan/wan-dns';

export { checkQueryName, DNS_TYPES } from './query-name.js';

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const FLAG_QR = 0x8000;
const FLAG_RD = 0x0100;
const CLASS_IN = 1;

/** A recursive query (RD) for `name`/`qtype` class IN with `id`. Pure; the name must pass checkQueryName (ASCII). */
export function encodeQuery(id: number, name: string, qtype: number): Uint8Array {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const nameBytes = labels.reduce((n, l) => n + 1 + l.length, 1);
  const out = new Uint8Array(12 + nameBytes + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, FLAG_RD);
  view.setUint16(4, 1);
  let pos = 12;
  for (const l of labels) {
    out[pos++] = l.length;
    for (let i = 0; i < l.length; i++) out[pos++] = l.charCodeAt(i) & 0xff;
  }
  out[pos++] = 0;
  view.setUint16(pos, qtype);
  view.setUint16(pos + 2, CLASS_IN);
  return out;
}

/** What a datagram says about our query: not ours (ignored), or a verdict with its RCODE's name. */
export type Judgement =
  | { readonly ours: false; readonly why: string }
  | { readonly ours: true; readonly ok: boolean; readonly rcode: string };

/**
 * Judges `answer` against `query` (pure): ours only when it is a reply (QR) with the same ID and the same
 * question; then NOERROR and NXDOMAIN are good (the server resolves), every other RCODE is bad.
 */
export function judgeAnswer(query: Uint8Array, answer: Uint8Array): Judgement {
  let info: ReturnType<typeof walkMessage>;
  try {
    info = walkMessage(answer, answer.length, false);
  } catch (err: unknown) {
    return { ours: false, why: err instanceof Error ? err.message : String(err) };
  }
  if ((info.flags & FLAG_QR) === 0) return { ours: false, why: 'not a reply (QR clear)' };
  if (info.id !== (((query[0] ?? 0) << 8) | (query[1] ?? 0))) return { ours: false, why: `ID ${info.id} is not the query's` };
  if (info.qdcount !== 1 || !sameQuestion(query, query.length, answer, info.questionEnd)) {
    return { ours: false, why: 'the question differs from the query' };
  }
  const rcode = RCODE_NAMES[info.rcode] ?? `RCODE ${info.rcode}`;
  return { ours: true, ok: info.rcode === RCODE_NOERROR || info.rcode === RCODE_NXDOMAIN, rcode };
}
