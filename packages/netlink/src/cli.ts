/**
 * meshwan-netlink: `routes [--table T|all] [-4|-6] [--json]`, `rules [-4|-6] [--json]`,
 * `get DST [--mark M] [--from S] [--iif DEV] [--oif DEV] [--kernel] [--json]`, `monitor [--json]`;
 * `-n NAME` runs against the network namespace NAME (as `ip -n`). Output follows iproute2's.
 */

import type { IpFamily } from '@meshwan/os';
import { files, proc } from '@meshwan/os';
import { NumberError, parseUnsigned } from '@meshwan/uci';
import { RouteCache } from './cache.js';
import { Netlink } from './client.js';
import type { Route } from './codec/route.js';
import { AddonError, NetlinkError, RequestError } from './errors.js';
import { type DevName, familyWords, formatAddress, formatLink, formatRoute, formatRouteJson, formatRule } from './format.js';
import { Monitor, type MonitorEvent } from './monitor.js';
import { dumpAll } from './snapshot.js';

const usage = `usage: meshwan-netlink [-n NETNS] routes [--table T|all] [-4|-6] [--json]
       meshwan-netlink [-n NETNS] rules [-4|-6] [--json]
       meshwan-netlink [-n NETNS] get DST [--mark M] [--from S] [--iif DEV] [--oif DEV] [--kernel] [--json]
       meshwan-netlink [-n NETNS] monitor [--json]`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** ends `monitor` (without one, monitor runs until a signal's default action ends the process) */
  signal?: AbortSignal;
}

/** stdout written as it is made, blocking: a dump held back by a slow reader waits rather than queueing. */
export const defaultIo: CliIo = { out: (s) => files.writeText(1, s), err: (s) => proc.writeStderr(s) };

/** Text gathered into chunks of about 64 KiB before each write: a 100k-route dump is a few hundred writes. */
class Chunked {
  private text = '';
  constructor(private readonly write: (text: string) => void) {}
  add(text: string): void {
    this.text += text;
    if (this.text.length >= 65536) this.flush();
  }
  flush(): void {
    if (this.text) this.write(this.text);
    this.text = '';
  }
}

/**
 * `routes`: each route printed as it is read (text as `ip route show`, or one element of the --json array), never
 * the whole dump held. A dump the kernel flagged as interrupted gets iproute2's warning on stderr.
 */
function printRoutes(nl: Netlink, families: readonly IpFamily[], table: number | undefined, json: boolean, io: CliIo, name: DevName) {
  const out = new Chunked(io.out);
  let first = true;
  const visit = json
    ? (r: Route) => {
        out.add(first ? `[\n${formatRouteJson(r, name)}` : `,\n${formatRouteJson(r, name)}`);
        first = false;
      }
    : (r: Route) => out.add(`${formatRoute(r, name, table === undefined)}\n`);
  let interrupted = false;
  for (const family of families) {
    if (nl.streamRoutes({ family, table }, visit)) interrupted = true;
  }
  if (json) out.add(first ? '[]\n' : '\n]\n');
  out.flush();
  if (interrupted) io.err('Dump was interrupted and may be inconsistent.\n');
}

class UsageError extends Error {}

interface Parsed {
  command: string;
  positional: string[];
  flags: Map<string, string>;
  bools: Set<string>;
}

const valued = new Set(['--table', '--mark', '--from', '--iif', '--oif', '-n']);
const booleans = new Set(['--json', '-4', '-6', '--kernel']);

function parse(args: readonly string[]): Parsed {
  const p: Parsed = { command: '', positional: [], flags: new Map(), bools: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (valued.has(a)) {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      p.flags.set(a, v);
    } else if (booleans.has(a)) p.bools.add(a);
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (!p.command) p.command = a;
    else p.positional.push(a);
  }
  return p;
}

function parseTable(text: string): number {
  const named: Record<string, number> = { main: 254, local: 255, default: 253 };
  return named[text] ?? parseUnsigned(text, { field: '--table' });
}

function families(p: Parsed): IpFamily[] {
  if (p.bools.has('-4') && !p.bools.has('-6')) return [4];
  if (p.bools.has('-6') && !p.bools.has('-4')) return [6];
  return [4, 6];
}

const errnoText: Record<string, string> = {
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
};

function describeEvent(e: MonitorEvent, name: (i: number) => string): string {
  switch (e.type) {
    case 'synced':
      return 'synced';
    case 'resynced':
      return `resynced after ${e.reason}: ${e.changes} changes`;
    case 'carrier':
      return `link ${e.link.name}: carrier ${e.carrier ? 'on' : 'off'}`;
    case 'admin':
      return `link ${e.link.name}: admin ${e.up ? 'up' : 'down'}`;
    case 'error':
      return `error: ${e.error.message}`;
  }
  const prefix = e.type === 'del' ? 'Deleted ' : '';
  switch (e.kind) {
    case 'link':
      return `${prefix}${formatLink(e.link)}`;
    case 'address':
      return `${prefix}${formatAddress(e.address, name)}`;
    case 'route':
      return `${prefix}${formatRoute(e.route, name, true)}`;
    case 'rule':
      return `${prefix}${formatRule(e.rule)}`;
  }
}

async function monitor(netns: string | undefined, json: boolean, io: CliIo): Promise<number> {
  const m = Monitor.start({ netns });
  const name = (i: number) => m.cache.link(i)?.name ?? `if${i}`;
  m.on((e) =>
    io.out(
      `${json ? JSON.stringify(e.type === 'error' ? { type: 'error', message: e.error.message } : e, familyWords) : describeEvent(e, name)}\n`,
    ),
  );
  await new Promise<void>((resolve) => {
    // The seam has no signal handlers yet: bin/meshwan-netlink.js (Node) passes one for SIGINT/SIGTERM.
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  m.close();
  return 0;
}

export async function runNetlinkCli(args: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let nl: Netlink | undefined;
  try {
    const p = parse(args);
    const nsName = p.flags.get('-n');
    const netns = nsName === undefined ? undefined : nsName.includes('/') ? nsName : `/run/netns/${nsName}`;
    const json = p.bools.has('--json');
    if (p.command === 'monitor') {
      if (p.positional.length) throw new UsageError('monitor takes no arguments');
      return await monitor(netns, json, io);
    }
    if (!['routes', 'rules', 'get'].includes(p.command)) throw new UsageError(p.command ? `unknown command ${p.command}` : 'no command');
    nl = Netlink.open({ netns });
    const links = new Map(nl.listLinks().map((l) => [l.index, l.name]));
    const name = (i: number) => links.get(i) ?? `if${i}`;
    if (p.command === 'routes') {
      if (p.positional.length) throw new UsageError('routes takes no arguments');
      const t = p.flags.get('--table') ?? 'main';
      const table = t === 'all' ? undefined : parseTable(t);
      printRoutes(nl, families(p), table, json, io, name);
      return 0;
    }
    if (p.command === 'rules') {
      if (p.positional.length) throw new UsageError('rules takes no arguments');
      const rules = families(p).flatMap((family) => nl?.listRules(family) ?? []);
      if (json)
        io.out(
          `${JSON.stringify(
            rules.map((r) => ({ ...r, unknown: undefined })),
            familyWords,
            2,
          )}\n`,
        );
      else for (const r of rules) io.out(`${formatRule(r)}\n`);
      return 0;
    }
    // get
    const [dst, ...extra] = p.positional;
    if (dst === undefined || extra.length) throw new UsageError('get takes one destination');
    const mark = p.flags.has('--mark') ? parseUnsigned(p.flags.get('--mark') ?? '', { field: '--mark' }) : undefined;
    const from = p.flags.get('--from');
    const iif = p.flags.get('--iif');
    const oif = p.flags.get('--oif');
    if (p.bools.has('--kernel')) {
      const r = nl.getRoute({ dst, mark, from, iif, oif });
      io.out(
        json
          ? `${JSON.stringify({ ...r, unknown: undefined }, familyWords)}\n`
          : `${formatRoute({ ...r, dst, dstLength: r.family === 4 ? 32 : 128 }, name, true)}\n`,
      );
      return 0;
    }
    const cache = new RouteCache();
    cache.load(dumpAll(nl.socket));
    const res = cache.lookup(dst, { mark, src: from, iif, oif });
    if (json) {
      io.out(`${JSON.stringify(res, (k, v: unknown) => (k === 'unknown' ? undefined : familyWords(k, v)))}\n`);
    } else if (res.verdict === 'route') {
      const route = res.route;
      io.out(
        `${route ? formatRoute({ ...route, dst, dstLength: route.family === 4 ? 32 : 128 }, name, true).replace(/^unicast /, '') : `${dst} dev ${oif} onlink`}\n`,
      );
      if (res.rule) io.out(`    rule ${formatRule(res.rule)}\n`);
      if (route) io.out(`    route ${formatRoute(route, name, true).split('\n')[0]}\n`);
    }
    if (res.verdict !== 'route') {
      if (!json)
        io.err(
          `meshwan-netlink: get ${dst}: ${errnoText[res.code ?? ''] ?? res.code} (${res.code})${res.rule ? `, rule ${formatRule(res.rule)}` : ''}${res.route ? `, route ${formatRoute(res.route, name, true).split('\n')[0]}` : ''}\n`,
        );
      return 2;
    }
    return 0;
  } catch (err: unknown) {
    // A bad number is a bad flag: iproute2's get_u32(…, 0) semantics come from @meshwan/uci's parseUnsigned.
    if (err instanceof UsageError || err instanceof NumberError) {
      io.err(`meshwan-netlink: ${err.message}\n${usage}\n`);
      return 2;
    }
    if (err instanceof NetlinkError || err instanceof RequestError || err instanceof AddonError) {
      io.err(`meshwan-netlink: ${err.message}\n`);
      return err instanceof NetlinkError && err.op === 'getRoute' ? 2 : 1;
    }
    throw err;
  } finally {
    nl?.close();
  }
}
