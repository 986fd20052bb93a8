/**
 * meshwan: `apply [--firewall-only]`, `daemon`, `check [--json]`, `status [--json]`, each with `--root DIR`.
 * Parses arguments, calls the API, prints text or JSON, sets the exit code: 0 fine, 1 something is wrong (with
 * what and how to fix it), 2 bad usage.
 */
import { detectBackend, driftFamily, type Firewall } from '@meshwan/iptables-wrapper';
import { Monitor, Netlink } from '@meshwan/netlink';
import { proc, signals } from '@meshwan/os';
import { applyAll } from './apply.js';
import { runCheck } from './check.js';
import { type Context, loadContext, resolvePaths } from './config.js';
import { Daemon } from './daemon.js';
import { UsageError } from './errors.js';
import { firewallRuleset } from './firewall.js';
import { readKernel } from './kernel.js';
import { readRepairs } from './repairs.js';
import { readProcSockets, readSs } from './sockets.js';
import { buildStatus, renderStatus } from './status.js';
import { readUplinksReport } from './uplinks.js';

const usage = `usage: meshwan apply [--firewall-only] [--root DIR]
       meshwan daemon [--root DIR]
       meshwan check [--json] [--root DIR] [--uplinks-status FILE]
       meshwan status [--json] [--root DIR] [--uplinks-status FILE]`;

interface Args {
  readonly command: string;
  readonly root?: string;
  readonly json: boolean;
  readonly firewallOnly: boolean;
  /** meshwan-uplinks' status file (default ROOT/var/run/meshwan-uplinks.json) */
  readonly uplinksStatus?: string;
}

export function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined || !['apply', 'daemon', 'check', 'status'].includes(command))
    throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
  let root: string | undefined;
  let json = false;
  let firewallOnly = false;
  let uplinksStatus: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--root') {
      root = rest[++i];
      if (root === undefined) throw new UsageError('--root needs a directory');
    } else if (a?.startsWith('--root=')) root = a.slice('--root='.length);
    else if (a === '--json' && (command === 'check' || command === 'status')) json = true;
    else if ((a === '--uplinks-status' || a?.startsWith('--uplinks-status=')) && (command === 'check' || command === 'status')) {
      uplinksStatus = a === '--uplinks-status' ? rest[++i] : a.slice('--uplinks-status='.length);
      if (uplinksStatus === undefined || uplinksStatus === '' || uplinksStatus.startsWith('-'))
        throw new UsageError('--uplinks-status needs a file');
    } else if ((a === '--firewall-only' || a === '--firewall') && command === 'apply') firewallOnly = true;
    else throw new UsageError(`unknown option ${a} for ${command}`);
  }
  return {
    command,
    json,
    firewallOnly,
    ...(root !== undefined ? { root } : {}),
    ...(uplinksStatus !== undefined ? { uplinksStatus } : {}),
  };
}

function firewallFor(ctx: Context, log: (line: string) => void): Firewall | undefined {
  if (proc.env('MESHWAN_FIREWALL') === 'none') return undefined;
  try {
    return detectBackend({ override: ctx.settings.firewall.backend });
  } catch (err: unknown) {
    log(`no firewall backend: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

const out = (text: string) => proc.writeStdout(text);
const err = (text: string) => proc.writeStderr(`meshwan: ${text}\n`);

function envMs(name: string, fallback: number): number {
  const v = Number(proc.env(name));
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

async function run(args: Args): Promise<number> {
  const paths = resolvePaths(args.root, args.uplinksStatus);
  const ctx = loadContext(paths);
  switch (args.command) {
    case 'apply': {
      const firewall = firewallFor(ctx, err);
      const nl = args.firewallOnly ? undefined : Netlink.open();
      try {
        const report = await applyAll(nl, firewall, ctx, { routing: !args.firewallOnly, firewall: true });
        for (const c of report.changes) out(`${c}\n`);
        if (report.changes.length === 0) out('no change\n');
        for (const e of ctx.network.errors) err(`config: ${e.message} (section skipped)`);
        for (const e of report.errors) err(`error: ${e.message}`);
        return report.errors.length > 0 || ctx.network.errors.length > 0 || (!firewall && args.firewallOnly) ? 1 : 0;
      } finally {
        nl?.close();
      }
    }
    case 'daemon': {
      const nl = Netlink.open();
      let monitor: Monitor | undefined;
      if (proc.env('MESHWAN_MONITOR') !== 'off') {
        try {
          // A smaller buffer makes an overrun (ENOBUFS, then a resync) reachable with a smaller burst: tests, tuning.
          const rcvbufBytes = envMs('MESHWAN_MONITOR_RCVBUF', 0);
          monitor = Monitor.start(rcvbufBytes > 0 ? { rcvbufBytes } : {});
        } catch (e: unknown) {
          err(`no netlink monitor, polling instead: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const daemon = new Daemon({
        paths,
        nl,
        ...(monitor ? { monitor } : {}),
        firewall: firewallFor(ctx, err),
        pollMs: envMs('MESHWAN_POLL_MS', monitor ? 2000 : 250),
        firewallPollMs: envMs('MESHWAN_FIREWALL_POLL_MS', 500),
        log: err,
      });
      const stop = () => daemon.stop();
      const off = [signals.on('SIGTERM', stop), signals.on('SIGINT', stop), signals.on('SIGHUP', () => daemon.reload())];
      try {
        await daemon.run();
      } finally {
        for (const f of off) f();
        monitor?.close();
        nl.close();
      }
      return 0;
    }
    case 'check': {
      const nl = Netlink.open();
      let kernel: ReturnType<typeof readKernel>;
      try {
        kernel = readKernel(nl);
      } finally {
        nl.close();
      }
      const report = await runCheck(
        {
          ctx,
          kernel,
          procSockets: readProcSockets(),
          ssSockets: readSs(),
          uplinks: readUplinksReport(ctx.uplinks, paths.uplinksStatus),
        },
        firewallFor(ctx, () => {}),
      );
      if (args.json) out(`${JSON.stringify(report, null, 2)}\n`);
      else {
        for (const f of report.findings) out(`FAIL ${f.code}: ${f.what}\n     fix: ${f.fix}\n`);
        for (const n of report.notes) out(`note: ${n}\n`);
        if (report.ok)
          out(
            'ok: unmarked packets cannot reach the WAN table, marked ones cannot reach main, the redirect and the forwarder are in place\n',
          );
      }
      return report.ok ? 0 : 1;
    }
    default: {
      const nl = Netlink.open();
      let kernel: ReturnType<typeof readKernel>;
      try {
        kernel = readKernel(nl);
      } finally {
        nl.close();
      }
      const firewall = firewallFor(ctx, () => {});
      let redirect: { inSync: boolean | null; drift: string[] } = { inSync: null, drift: [] };
      if (firewall) {
        try {
          const r = await firewall.status(firewallRuleset(ctx.network, ctx.settings, ctx.uplinks));
          redirect = {
            inSync: r.inSync,
            drift: r.drift.map((d) => `${d.kind} ${driftFamily(d.family)} ${d.table} ${d.chain} ${d.detail}`),
          };
        } catch (e: unknown) {
          redirect = { inSync: null, drift: [e instanceof Error ? e.message : String(e)] };
        }
      }
      const status = buildStatus(
        ctx,
        kernel,
        readProcSockets(),
        redirect,
        readRepairs(paths.stateDir),
        readUplinksReport(ctx.uplinks, paths.uplinksStatus),
      );
      out(args.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
      return 0;
    }
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e: unknown) {
    if (!(e instanceof UsageError)) throw e;
    err(e.message);
    proc.writeStderr(`${usage}\n`);
    return 2;
  }
  try {
    return await run(args);
  } catch (e: unknown) {
    // SettingsError, UciParseError, UciError, ConfigError (unreadable network file), NetlinkError (no CAP_NET_ADMIN): say it, exit 1.
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}
