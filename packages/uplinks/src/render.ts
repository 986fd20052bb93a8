/**
 * The status file (/var/run/meshwan-uplinks.json) and its text form. The file is what the daemon knows (an
 * Engine Status) plus who wrote it, so a reader (`meshwan-uplinks status`, `meshwan status`) can tell a live
 * daemon's view from a stale one: the writer's pid and command, and the probe interval that bounds how old a
 * live daemon's file can get (it is rewritten after every probe round).
 */
import { proc } from '@meshwan/os';
import type { UplinksConfig } from './config.js';
import type { Status } from './engine.js';

export interface StatusWriter {
  readonly pid: number;
  /** `daemon` keeps the file fresh; `once` and `restore` write it once and exit */
  readonly command: 'daemon' | 'once' | 'restore';
  /** the shortest probe interval of the enabled uplinks (ms): a daemon rewrites the file at least that often */
  readonly intervalMs: number;
}

export interface StatusFile extends Status {
  /** absent in files written before the field existed */
  readonly writer?: StatusWriter;
}

/** Who is writing the status: this process, with the shortest probe interval of the enabled uplinks. */
export function statusWriter(command: StatusWriter['command'], config: UplinksConfig, pid = proc.pid): StatusWriter {
  const intervals = config.uplinks.filter((u) => u.enabled).map((u) => u.intervalMs);
  return { pid, command, intervalMs: intervals.length > 0 ? Math.min(...intervals) : 0 };
}

/** Renders a Status as text (pure). */
export function renderStatus(s: StatusFile): string {
  const lines = [`table ${s.table}`];
  for (const u of s.uplinks) {
    const gw = u.gateway ? `via ${u.gateway} (${u.gatewaySource})` : 'no gateway';
    lines.push(
      `uplink ${u.name} (${u.family}, dev ${u.device}, metric ${u.metric}, weight ${u.weight}, probe mark ${u.probeMark}): ${u.enabled ? u.health.state : 'disabled'}, ${gw}`,
    );
    lines.push(`  why: ${u.health.reason}; ${u.health.rounds} rounds, ${u.health.lost} lost`);
    for (const p of u.lastProbe) lines.push(`  probe ${p.target}: ${p.ok ? 'answered' : 'lost'}, ${p.detail}`);
  }
  for (const c of s.choices) {
    lines.push(
      `default (${c.family}): ${c.members.length === 0 ? 'none of ours' : c.members.map((m) => `${m.name}${c.members.length > 1 ? ` weight ${m.weight}` : ''}`).join(' + ')}`,
    );
    lines.push(`  why: ${c.reason}`);
  }
  for (const r of s.routes) lines.push(`route ${r}`);
  for (const r of s.restore) lines.push(`restore ${r.uplink}: ${r.reason}`);
  for (const e of s.errors) lines.push(`error: ${e}`);
  lines.push(`updated ${s.updatedAt}${s.writer ? ` by meshwan-uplinks ${s.writer.command} (pid ${s.writer.pid})` : ''}`);
  return `${lines.join('\n')}\n`;
}
