/**
 * `make bench` block for the whole node (test/bench/run.mjs bundles and runs this): the node's bring-up steps, the
 * time from the WAN link coming back to the VPN group's first answer, and dnsperf through the VPN group's redirect
 * (dnsperf under gid 800 -> nat OUTPUT -> wan-dns -> marked upstream -> NSD on the ISP) against the same load sent
 * unredirected to the mesh's NSD. Prints Markdown.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addr, answers, TeardownStack } from '../lib/topology.js';
import { type StepResult, startNode } from '../sim/node.js';

interface Perf {
  qps: number;
  avgMs: number;
  lost: number;
  sent: number;
}

function dnsperf(ns: string, server: string, file: string, seconds: number, rate: number, gid?: number): Perf {
  const priv = gid === undefined ? [] : ['setpriv', `--regid=${gid}`, '--clear-groups', '--'];
  const r = spawnSync(
    'ip',
    ['netns', 'exec', ns, ...priv, 'dnsperf', '-s', server, '-d', file, '-l', String(seconds), '-Q', String(rate), '-t', '2'],
    {
      encoding: 'utf8',
    },
  );
  const num = (re: RegExp) => Number(re.exec(r.stdout)?.[1] ?? Number.NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
    sent: num(/Queries sent:\s+(\d+)/),
  };
}

/** A `/proc/PID/status` field in kB; a process that is not running fails the bench. */
function statusKb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) throw new Error(`bench: a meshwan process is not running (${field})`);
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  const kb = Number(/(\d+)/.exec(line ?? '')?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`bench: no ${field} for pid ${pid}`);
  return kb;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const t = new TeardownStack();
  t.onSignals();
  const steps: StepResult[] = [];
  try {
    const node = await startNode(t, (r) => steps.push(r), { wanMode: 'static' });
    if (!node?.complete) {
      process.stderr.write(`bench: the node did not come up: ${steps.map((s) => `${s.outcome} ${s.name} ${s.detail}`).join('; ')}\n`);
      return 1;
    }
    const { topo, gid } = node;
    const recovery: number[] = [];
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      await topo.setWanLink(false);
      await topo.setWanLink(true);
      const up = Date.now();
      for (;;) {
        const r = await topo.digAsync(addr.meshDns6, topo.probeName('bench'), { gid, timeoutSeconds: 1 });
        if (r.answers[0] === answers.wanA.txt) break;
        if (Date.now() - up > 10_000) break;
      }
      recovery.push(Date.now() - up);
    }
    // RSS of every meshwan process at Gluon's defaults (the daemon and wan-dns; meshwan-uplinks runs only once an
    // uplink is enabled): idle now, and the peak (VmHWM) after the load below.
    const processes = [
      ['meshwan daemon', node.daemon?.pid()],
      ['wan-dns', node.wanDns?.pid()],
    ] as const;
    const idleKb = processes.map(([, pid]) => statusKb(pid, 'VmRSS'));
    const file = join(node.fw.root, 'tmp', 'dnsperf.txt');
    writeFileSync(file, Array.from({ length: 1000 }, (_, i) => `q${i}.meshwan.test TXT\n`).join(''));
    const seconds = quick ? 2 : 10;
    const rate = 2000;
    const viaWan = dnsperf(topo.node.name, addr.meshDns6, file, seconds, rate, gid);
    const direct = dnsperf(topo.node.name, addr.meshDns6, file, seconds, rate);
    const peakKb = processes.map(([, pid]) => statusKb(pid, 'VmHWM'));
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const row = (label: string, p: Perf) => `| ${label} | ${p.qps.toFixed(0)} | ${p.avgMs.toFixed(2)} | ${p.lost} of ${p.sent} |`;
    const out = [
      '## Whole node in namespaces (test/bench)',
      '',
      `Command: \`node test/bench/run.mjs${quick ? ' --quick' : ''}\` (as root; the node of \`make sim\`, static WAN)`,
      '',
      '| bring-up step | ms |',
      '|---|---|',
      ...steps.filter((s) => s.outcome === 'PASS').map((s) => `| ${s.name} | ${s.ms} |`),
      '',
      `WAN link up to the VPN group's first answer (wan0 up, addresses and table-1 routes back, then dig every few ms), ${recovery.length} runs: median ${median(recovery)} ms, max ${Math.max(...recovery)} ms.`,
      '',
      `dnsperf, ${seconds} s at ${rate} queries/s, 1000 names, to @${addr.meshDns6}:`,
      '',
      '| path | queries/s | avg latency ms | lost |',
      '|---|---|---|---|',
      row('VPN group: redirect -> wan-dns -> marked upstream -> ISP NSD', viaWan),
      row('any other process: straight to the mesh NSD', direct),
      '',
      "RSS of every meshwan process at Gluon's defaults (all on meshwan-js): idle after bring-up, and the peak (VmHWM) after the dnsperf runs above:",
      '',
      '| process | idle RSS MB | peak RSS MB |',
      '|---|---:|---:|',
      ...processes.map(([name], i) => `| ${name} | ${mb(idleKb[i] ?? 0)} | ${mb(peakKb[i] ?? 0)} |`),
      `| together | ${mb(sum(idleKb))} | ${mb(sum(peakKb))} |`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await t.run();
  }
}
