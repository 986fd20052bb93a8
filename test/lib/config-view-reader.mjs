// Prints, as JSON, what policy, wan-dns and uplinks read from the root given as argv[2] (test/config-view.test.ts).
const root = process.argv[2];
const d = (p) => import(new URL(`../../${p}`, import.meta.url).href);
const policy = await d('packages/policy/dist/config.js');
const wanDns = await d('packages/wan-dns/dist/cli.js');
const dnsConfig = await d('packages/wan-dns/dist/config.js');
const uplinks = await d('packages/uplinks/dist/config.js');
const { openConfig } = await d('packages/uci/dist/index.js');
const { readSettings } = await d('packages/site/dist/index.js');
const ctx = policy.loadContext(policy.resolvePaths(root));
const o = wanDns.daemonOptions(wanDns.parseArgs(['--root', root]), { log() {} });
const servers = dnsConfig.readUpstreams(o.sources).servers.map((s) => s.address);
const uci = openConfig({ root });
const up = uplinks.loadConfig(uci);
console.log(
  JSON.stringify({
    policy: { ...ctx.split, gid: ctx.settings.meshVpn.gid, uplinks: ctx.uplinks.uplinks.map((u) => u.name) },
    wanDns: { mark: o.mark, gid: o.vpnGid, servers },
    uplinks: { table: up.globals.table ?? readSettings(uci).wan.table, enabled: up.uplinks.filter((u) => u.enabled).map((u) => u.name) },
  }),
);
