/**
 * /etc/group, /etc/passwd and /etc/shadow entries, as pure text edits. OpenWrt creates a package's users at
 * install time (USERID in its Makefile, e.g. gluon-mesh-vpn-core's `:gluon-mesh-vpn=800`); a firmware overlay
 * has no install step, so the upgrade scripts make sure the entries exist. Lines we do not own are kept byte
 * for byte; the text is unchanged when the entry is already right.
 */
import { UpgradeError } from './errors.js';

interface Entry {
  readonly line: number;
  readonly fields: readonly string[];
}

function entries(text: string): Entry[] {
  const out: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() !== '' && !raw.startsWith('#')) out.push({ line: i + 1, fields: raw.split(':') });
  });
  return out;
}

function appendLine(text: string, line: string): string {
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
}

function replaceLine(text: string, lineNumber: number, line: string): string {
  const lines = text.split('\n');
  lines[lineNumber - 1] = line;
  return lines.join('\n');
}

/** Names and ids in a passwd or group file. */
function usedIds(text: string): Map<number, string> {
  const ids = new Map<number, string>();
  for (const e of entries(text)) {
    const id = Number(e.fields[2]);
    if (Number.isInteger(id)) ids.set(id, e.fields[0] ?? '');
  }
  return ids;
}

/**
 * Ensures group `name` has `gid`. A group of that name with another gid gets `gid` (members kept); `gid` held by
 * another group is an error naming that line, since taking it would hand that group's files to the VPN daemon.
 */
export function ensureGroup(text: string, file: string, name: string, gid: number, members = ''): string {
  const all = entries(text);
  const holder = all.find((e) => Number(e.fields[2]) === gid && e.fields[0] !== name);
  if (holder !== undefined) {
    throw new UpgradeError(file, `gid ${gid} for group ${name} is already taken by group ${holder.fields[0] ?? ''}`, holder.line);
  }
  const own = all.find((e) => e.fields[0] === name);
  if (own === undefined) return appendLine(text, `${name}:x:${gid}:${members}`);
  if (Number(own.fields[2]) === gid) return text;
  const fields = [...own.fields];
  fields[2] = String(gid);
  return replaceLine(text, own.line, fields.join(':'));
}

/** The first id >= `preferred` that neither file uses, so a new user and its group share one number. */
export function freeId(passwd: string, group: string, preferred: number): number {
  const users = usedIds(passwd);
  const groups = usedIds(group);
  let id = preferred;
  while (users.has(id) || groups.has(id)) id++;
  return id;
}

/** Ensures user `name` exists (with a home and no login shell); an existing entry is kept as it is. */
export function ensureUser(passwd: string, name: string, uid: number, gid: number, home: string): string {
  if (entries(passwd).some((e) => e.fields[0] === name)) return passwd;
  return appendLine(passwd, `${name}:x:${uid}:${gid}:${name}:${home}:/bin/false`);
}

/** Ensures a locked shadow entry (OpenWrt's user_add writes `name:x:0:0:99999:7:::`). */
export function ensureShadow(shadow: string, name: string): string {
  if (entries(shadow).some((e) => e.fields[0] === name)) return shadow;
  return appendLine(shadow, `${name}:x:0:0:99999:7:::`);
}

/** The uid and gid of an existing user, if any. */
export function findUser(passwd: string, name: string): { uid: number; gid: number } | undefined {
  const e = entries(passwd).find((x) => x.fields[0] === name);
  if (e === undefined) return undefined;
  return { uid: Number(e.fields[2]), gid: Number(e.fields[3]) };
}
