/**
 * The routes policy installed from `config route`/`config route6` sections, remembered in
 * STATE_DIR/config-routes.json. When a section is deleted or changed, its old route has to go, but ownership
 * cannot be read from the kernel: netifd's own routes in the same tables carry the same protocol (static, as
 * policy's do on purpose), so only this record says which ones policy put there. The state dir is on tmpfs on a
 * node, like the routes themselves: both are gone after a reboot.
 */
import { files, type IpFamily } from '@meshwan/os';
import { formatPrefix, type Prefix, parsePrefix } from './ip.js';
import type { Route, RouteType } from './model.js';
import { joinPath as join } from './path.js';
import { writeStateFile } from './repairs.js';

export function installedFile(stateDir: string): string {
  return join(stateDir, 'config-routes.json');
}

export interface RouteJson {
  family: IpFamily;
  table: number;
  dst: string;
  src?: string;
  type: RouteType;
  dev?: string;
  gateway?: string;
  metric: number;
  protocol: number;
  prefsrc?: string;
  mtu?: number;
  onlink?: boolean;
  pref?: 'medium' | 'high' | 'low';
  scope?: number;
}

export function toJson(r: Route): RouteJson {
  const out: RouteJson = {
    family: r.family,
    table: r.table,
    dst: formatPrefix(r.dst),
    type: r.type,
    metric: r.metric,
    protocol: r.protocol,
  };
  if (r.src) out.src = formatPrefix(r.src);
  if (r.dev !== undefined) out.dev = r.dev;
  if (r.gateway !== undefined) out.gateway = r.gateway;
  if (r.prefsrc !== undefined) out.prefsrc = r.prefsrc;
  if (r.mtu !== undefined) out.mtu = r.mtu;
  if (r.onlink) out.onlink = true;
  if (r.pref !== undefined) out.pref = r.pref;
  if (r.scope !== undefined) out.scope = r.scope;
  return out;
}

export function fromJson(j: RouteJson): Route | undefined {
  const dst: Prefix | undefined = typeof j.dst === 'string' ? parsePrefix(j.dst, j.family) : undefined;
  const src = typeof j.src === 'string' ? parsePrefix(j.src, j.family) : undefined;
  if (!dst || (j.src !== undefined && !src) || typeof j.table !== 'number' || typeof j.metric !== 'number') return undefined;
  return {
    family: j.family,
    table: j.table,
    dst,
    type: j.type,
    metric: j.metric,
    protocol: j.protocol,
    ...(src ? { src } : {}),
    ...(typeof j.dev === 'string' ? { dev: j.dev } : {}),
    ...(typeof j.gateway === 'string' ? { gateway: j.gateway } : {}),
    ...(typeof j.prefsrc === 'string' ? { prefsrc: j.prefsrc } : {}),
    ...(typeof j.mtu === 'number' ? { mtu: j.mtu } : {}),
    ...(j.onlink === true ? { onlink: true } : {}),
    ...(j.pref === 'medium' || j.pref === 'high' || j.pref === 'low' ? { pref: j.pref } : {}),
    ...(typeof j.scope === 'number' ? { scope: j.scope } : {}),
  };
}

export function encodeInstalled(routes: readonly Route[]): string {
  return `${JSON.stringify(routes.map(toJson), null, 1)}\n`;
}

/** The record's routes; a missing or damaged record is empty (nothing is deleted on a guess). */
export function decodeInstalled(text: string): Route[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.map((j) => fromJson(j as RouteJson)).filter((r): r is Route => r !== undefined);
  } catch {
    return [];
  }
}

export function readInstalled(stateDir: string): Route[] {
  try {
    return decodeInstalled(files.readText(installedFile(stateDir)));
  } catch {
    return [];
  }
}

/** Writes the record only when it changed (a steady state writes nothing). */
export function writeInstalled(stateDir: string, routes: readonly Route[], previous: readonly Route[]): boolean {
  const text = encodeInstalled(routes);
  if (text === encodeInstalled(previous)) return false;
  writeStateFile(installedFile(stateDir), text);
  return true;
}
