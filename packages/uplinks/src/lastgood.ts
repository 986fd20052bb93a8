/**
 * The last good WAN default (gateway and device per uplink in use), persisted so a reboot can bring the WAN back
 * before netifd and the probes have caught up. Written atomically (temp file, fsync, rename, fsync of the
 * directory) and only when it changes, to spare flash. Unlike Althea's Rita, which reinstalls a saved route
 * blindly, a restore happens only after the gateway has answered on that device (see engine.ts).
 */
import { familyNamed, familyWords } from '@meshwan/netlink';
import { files, type IpFamily, OsError } from '@meshwan/os';
import { writeFileAtomic } from '@meshwan/uci';
import { StateFileError } from './errors.js';

export interface LastGoodMember {
  readonly uplink: string;
  readonly family: IpFamily;
  readonly device: string;
  readonly gateway: string;
}

export interface LastGood {
  readonly version: 1;
  readonly members: readonly LastGoodMember[];
  readonly savedAt: string;
}

/** A member as the file spells it (the family as iproute2's word, `inet`/`inet6`), or undefined when it is not one. */
function memberOf(v: unknown): LastGoodMember | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  const family = familyNamed(m.family);
  if (family === undefined || typeof m.uplink !== 'string' || typeof m.device !== 'string') return undefined;
  if (typeof m.gateway !== 'string' || !/^[0-9a-fA-F:.]+$/.test(m.gateway)) return undefined;
  return { uplink: m.uplink, family, device: m.device, gateway: m.gateway };
}

/** Decodes the file's text; throws StateFileError naming what is wrong (pure). */
export function decodeLastGood(text: string, path: string): LastGood {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err: unknown) {
    throw new StateFileError(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof v !== 'object' || v === null) throw new StateFileError(path, 'expected an object');
  const o = v as Record<string, unknown>;
  if (o.version !== 1) throw new StateFileError(path, `expected version 1, got ${JSON.stringify(o.version)}`);
  const members = Array.isArray(o.members) ? o.members.map(memberOf) : [undefined];
  if (!members.every((m) => m !== undefined)) throw new StateFileError(path, 'members: expected [{uplink, family, device, gateway}]');
  return { version: 1, members, savedAt: typeof o.savedAt === 'string' ? o.savedAt : '' };
}

/** Reads the last-good file; undefined when there is none. */
export function readLastGood(path: string): LastGood | undefined {
  let text: string;
  try {
    text = files.readText(path);
  } catch (err: unknown) {
    if (err instanceof OsError && err.code === 'ENOENT') return undefined;
    throw new StateFileError(path, `cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return decodeLastGood(text, path);
}

/** Persists the members in use. Members without a gateway (point-to-point) cannot be checked, so are not saved. */
export function writeLastGood(path: string, members: readonly LastGoodMember[], now = new Date()): void {
  const data: LastGood = { version: 1, members, savedAt: now.toISOString() };
  try {
    writeFileAtomic(path, `${JSON.stringify(data, familyWords, 2)}\n`, { mkdir: true });
  } catch (err: unknown) {
    throw new StateFileError(path, `cannot write: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Same members regardless of order (so an unchanged state is not rewritten). */
export function sameMembers(a: readonly LastGoodMember[], b: readonly LastGoodMember[]): boolean {
  const key = (m: LastGoodMember) => `${m.uplink}|${m.family}|${m.device}|${m.gateway}`;
  const sa = a.map(key).sort();
  const sb = b.map(key).sort();
  return sa.length === sb.length && sa.every((k, i) => k === sb[i]);
}
