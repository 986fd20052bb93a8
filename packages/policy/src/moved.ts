/**
 * The WAN routes policy moved out of main (or parked in a probe table), remembered in STATE_DIR/moved-routes.json.
 * Once moved, a route exists only in its new table: when that table is flushed (`ip route flush table 1`) or a
 * netlink flood took the route with it, nobody else re-adds it (netifd adds to main only on its next event, the
 * kernel never), so policy puts it back from this record, as it does its rules. A record entry is forgotten when
 * the route no longer belongs there (desired.ts `stillBelongs`), when its RA lifetime has run out, or when the
 * kernel refuses to put it back. On tmpfs on a node, like the routes: both are gone after a reboot.
 */
import { files } from '@meshwan/os';
import { fromJson, type RouteJson, toJson } from './installed.js';
import type { Route } from './model.js';
import { joinPath as join } from './path.js';
import { writeStateFile } from './repairs.js';

export interface MovedRoute {
  /** The route as policy added it in its table. */
  readonly route: Route;
  /** Epoch ms at which the route's lifetime (RTA_EXPIRES when it was moved) runs out; unset: it does not expire. */
  readonly until?: number;
}

export function movedFile(stateDir: string): string {
  return join(stateDir, 'moved-routes.json');
}

/** A route as recorded: the lifetime is kept as `until`, the seconds left at the time of the dump are dropped. */
export function movedEntry(route: Route, nowMs: number): MovedRoute {
  const { expiresSeconds, ...rest } = route;
  return expiresSeconds !== undefined ? { route: rest, until: nowMs + expiresSeconds * 1000 } : { route: rest };
}

function encodeMoved(moved: readonly MovedRoute[]): string {
  const json = moved.map((m) => ({ ...toJson(m.route), ...(m.until !== undefined ? { until: m.until } : {}) }));
  return `${JSON.stringify(json, null, 1)}\n`;
}

/** The record's routes; a missing or damaged record is empty (nothing is restored on a guess). */
function decodeMoved(text: string): MovedRoute[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: MovedRoute[] = [];
  for (const j of parsed as (RouteJson & { until?: unknown })[]) {
    const route = typeof j === 'object' && j !== null ? fromJson(j) : undefined;
    if (route) out.push(typeof j.until === 'number' ? { route, until: j.until } : { route });
  }
  return out;
}

export function readMoved(stateDir: string): MovedRoute[] {
  try {
    return decodeMoved(files.readText(movedFile(stateDir)));
  } catch {
    return []; // no pass has moved anything yet
  }
}

/** Writes the record only when it changed (a steady state writes nothing). */
export function writeMoved(stateDir: string, moved: readonly MovedRoute[], previous: readonly MovedRoute[]): boolean {
  const text = encodeMoved(moved);
  if (text === encodeMoved(previous)) return false;
  writeStateFile(movedFile(stateDir), text);
  return true;
}
