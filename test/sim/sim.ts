// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * `make sim`: a whole meshwan node in network namespaces, narrated step by step (PASS, or FAIL saying why), with a
 * one-screen summary. Exit 0 only when every step passed, 1 when any failed (a part missing from the staged tree
 * fails the steps that need it). `--keep` leaves everything running and prints how to enter and remove it.
 * Run through test/sim/run.mjs, which bundles this file with esbuild (node runs no TypeScript by itself).
 */
import type { Teardowns } from '../lib/netns.js';
import { addr, answers, type Capture, TeardownStack } from '../lib/topology.js';
import { lookupLoad, type MeshwanNode, runInNode, type StepResult, startNode, step } from './node.js';

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const mark = { PASS: paint(32, 'PASS'), FAIL: paint(31, 'FAIL') } as const;

function print(r: StepResult): void {
  const time = r.ms > 0 ? ` (${r.ms} ms)` : '';
  process.stdout.write(`${mark[r.outcome]}  ${r.name}${time}\n`);
  if (r.detail !== '') process.stdout.write(`      ${r.detail}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lookup steps of the issue, in order, on a running node. */
async function narrate(t: Teardowns, node: MeshwanNode, report: (r: StepResult) => void): Promise<void> {
  const { topo, fw, gid } = node;
  const both = ['policy', 'wan-dns'] as const;
  // The mesh DNS over each family the WAN has (the VPN group's lookups are redirected whatever their destination).
  const servers: string[] = [];
  if (topo.options.wan6) servers.push(addr.meshDns6);
  if (topo.options.wan4) servers.push(addr.meshDns4);
  let mesh0: Capture | undefined;
  let wan0: Capture | undefined;
  const vpnNames: string[] = [];
  const otherNames: string[] = [];

  await step(report, fw, 'captures running on mesh0 and wan0 (tcpdump in the node)', [], async () => {
    mesh0 = await topo.capture('mesh0');
    wan0 = await topo.capture('wan0');
    return `${mesh0.file}, ${wan0.file}`;
  });

  await step(report, fw, `a lookup by the VPN group (gid ${gid}) is answered by the WAN's DNS`, both, () => {
    const got: string[] = [];
    for (const server of servers) {
      const name = topo.probeName('vpn');
      vpnNames.push(name);
      const r = topo.dig(server, name, { gid });
      if (r.answers[0] !== answers.wanA.txt)
        throw new Error(`dig @${server} as gid ${gid}: ${r.status} ${r.answers.join(',')} (want "wan-a")`);
      got.push(`@${server} -> "${r.answers[0]}"`);
    }
    return got.join(', ');
  });

  await step(report, fw, "the same lookup by any other process is answered by the mesh's DNS", [], () => {
    const got: string[] = [];
    for (const server of servers) {
      const name = topo.probeName('other');
      otherNames.push(name);
      const r = topo.dig(server, name);
      if (r.answers[0] !== answers.mesh.txt) throw new Error(`dig @${server}: ${r.status} ${r.answers.join(',')} (want "mesh")`);
      got.push(`@${server} -> "${r.answers[0]}"`);
    }
    return got.join(', ');
  });

  await step(report, fw, 'captures: 0 VPN-group DNS packets on mesh0, nothing unmarked on wan0', both, async () => {
    await mesh0?.stop();
    await wan0?.stop();
    const onMesh = vpnNames.reduce((n, name) => n + (mesh0?.countName(name) ?? 0), 0);
    const otherOnWan = otherNames.reduce((n, name) => n + (wan0?.countName(name) ?? 0), 0);
    const vpnOnWan = vpnNames.reduce((n, name) => n + (wan0?.countName(name) ?? 0), 0);
    const unmarked = topo.unmarkedOnWan();
    const text = `VPN-group queries on mesh0: ${onMesh}; others' queries on wan0: ${otherOnWan}; unmarked packets out wan0: ${unmarked}; VPN-group queries on wan0: ${vpnOnWan}; marked packets out wan0: ${topo.markedOnWan()}`;
    if (onMesh !== 0 || otherOnWan !== 0 || unmarked !== 0) throw new Error(text);
    return text;
  });

  await step(report, fw, '`meshwan check` passes', ['policy'], () => {
    const r = runInNode(node, 'meshwan', ['check', '--root', fw.root]);
    const out = r.output.trim();
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${out.split('\n').slice(0, 6).join(' | ')}`);
    return out.split('\n')[0] ?? '';
  });

  await step(report, fw, "WAN link down: the VPN group's lookups get SERVFAIL, nothing goes to the mesh", both, async () => {
    const capture = await topo.capture('mesh0');
    await topo.setWanLink(false);
    const got: string[] = [];
    const names: string[] = [];
    for (const server of servers) {
      const name = topo.probeName('down');
      names.push(name);
      const r = topo.dig(server, name, { gid, timeoutSeconds: 4 });
      got.push(`@${server} -> ${r.status}`);
      if (r.status !== 'SERVFAIL') throw new Error(`dig @${server} as gid ${gid} with the WAN down: ${r.status} ${r.answers.join(',')}`);
    }
    await capture.stop();
    const onMesh = names.reduce((n, name) => n + capture.countName(name), 0);
    if (onMesh !== 0) throw new Error(`${onMesh} VPN-group queries went out mesh0 with the WAN down`);
    return `${got.join(', ')}; 0 on mesh0`;
  });

  await step(report, fw, 'WAN back: answered again within 2 s', both, async () => {
    await topo.setWanLink(true);
    const up = Date.now();
    const server = servers[0] ?? addr.meshDns6;
    for (;;) {
      const r = await topo.digAsync(server, topo.probeName('back'), { gid, timeoutSeconds: 1 });
      if (r.answers[0] === answers.wanA.txt) return `answered ${Date.now() - up} ms after the WAN came back`;
      if (Date.now() - up > 2000) throw new Error(`still ${r.status} ${Date.now() - up} ms after the WAN came back`);
      await sleep(100);
    }
  });

  await step(report, fw, "the WAN's DNS server changes (DHCP renew naming a new one): lookups keep working", both, async () => {
    const server = servers[0] ?? addr.meshDns6;
    const load = lookupLoad(t, topo, server, gid);
    const newDns = { dns4: topo.options.wan4 ? [addr.wanDnsB4] : [], dns6: topo.options.wan6 ? [addr.wanDnsB6] : [] };
    if (topo.dhcp) await topo.dhcp.setDnsServers(newDns.dns4, newDns.dns6);
    await topo.wan.renew();
    if (!topo.dhcp) topo.wan.setStaticDns([...newDns.dns4, ...newDns.dns6]);
    // Gluon's hotplug hook tells the forwarder after rewriting the file; procd's reload sends SIGHUP.
    node.wanDns?.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    while (load.current().last !== answers.wanB.txt && Date.now() < deadline) await sleep(100);
    await sleep(300);
    const { total, failures, failed, last } = await load.stop();
    const text = `${total} lookups during the change, ${failures} failed${failed.length > 0 ? ` (${[...new Set(failed)].join(', ')})` : ''}; now answered by "${last}" (servers: ${topo.wan.dnsServers().join(' ')})`;
    if (failures > 0 || last !== answers.wanB.txt) throw new Error(text);
    return text;
  });
}

function summary(results: StepResult[], seconds: number): number {
  const n = (o: string) => results.filter((r) => r.outcome === o).length;
  const line = '─'.repeat(78);
  process.stdout.write(`\n${line}\nmeshwan sim: ${n('PASS')} passed, ${n('FAIL')} failed in ${seconds.toFixed(1)} s\n`);
  for (const r of results) process.stdout.write(`  ${mark[r.outcome]}  ${r.name}\n`);
  process.stdout.write(`${line}\n`);
  return n('FAIL') > 0 || n('PASS') === 0 ? 1 : 0;
}

/** Entry point: returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const keep = argv.includes('--keep');
  const netifdArg = argv.find((a) => a.startsWith('--netifd='));
  const unknown = argv.filter((a) => a !== '--keep' && a !== netifdArg);
  if (unknown.length > 0) {
    process.stderr.write(`make sim: unknown argument ${unknown[0]} (only --keep, --netifd=real|none)\n`);
    return 2;
  }
  const netifdMode = netifdArg?.slice('--netifd='.length) ?? 'none';
  if (netifdMode !== 'real' && netifdMode !== 'none') {
    process.stderr.write(`make sim: --netifd=${netifdMode}: expected real (OpenWrt's netifd in the node) or none\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('make sim: needs root (network namespaces, firewall rules)\n');
    return 2;
  }
  const started = Date.now();
  const cleanup = new TeardownStack();
  if (!keep) cleanup.onSignals();
  const results: StepResult[] = [];
  const report = (r: StepResult) => {
    results.push(r);
    print(r);
  };
  let node: MeshwanNode | undefined;
  try {
    const isp = netifdMode === 'real' ? "static WAN applied by OpenWrt's netifd" : 'DHCPv4, RA';
    process.stdout.write(`meshwan sim: a node (wan0, mesh0), its ISP (${isp}, NSD) and its mesh (NSD) in namespaces\n\n`);
    node = await startNode(cleanup, report, netifdMode === 'real' ? { netifd: true } : { wanMode: 'dhcp' });
    if (node) await narrate(cleanup, node, report);
  } catch (err: unknown) {
    report({ name: 'simulation', outcome: 'FAIL', detail: err instanceof Error ? (err.stack ?? err.message) : String(err), ms: 0 });
  }
  const code = summary(results, (Date.now() - started) / 1000);
  if (keep && node) {
    const names = [node.topo.node.name, node.topo.isp.name, node.topo.mesh.name];
    process.stdout.write(
      [
        '',
        'Left running (--keep). Enter the node:',
        `  ip netns exec ${node.topo.node.name} bash`,
        `  ip netns exec ${node.topo.node.name} setpriv --regid=${node.gid} --clear-groups dig @${addr.meshDns6} probe.meshwan.test TXT   # VPN group: "wan-a"`,
        `  ip netns exec ${node.topo.node.name} dig @${addr.meshDns6} probe.meshwan.test TXT                                  # others: "mesh"`,
        `Staged firmware: ${node.fw.root} (service logs in ${node.fw.root}/tmp; nothing respawns them once this command has exited)`,
        `Servers' configs, logs and captures: ${node.topo.stateDir}`,
        'Remove it all:',
        `  for n in ${names.join(' ')}; do ip netns pids $n | xargs -r kill; ip netns del $n; done; rm -rf ${node.fw.root} ${node.fw.root}.sim ${node.topo.stateDir}`,
        '',
      ].join('\n'),
    );
    process.exit(code);
  }
  await cleanup.run();
  return code;
}
