// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * meshwan's DNS redirect, proven end to end on every backend: dig run under gid 800 (setpriv --regid) reaches
 * the test server on port 54 whatever server it asked, over UDP and TCP, IPv4 and IPv6; dig under gid 801 is
 * not redirected. Two NSDs: port 54 answers 192.0.2.54 (the "forwarder"), port 53 answers 192.0.2.53.
 */
import t from 'tap';
import { addAddress, createNamespace, type Namespace } from '../../../test/lib/netns.js';
import { startNsd } from '../../../test/lib/nsd.js';
import { requireParts } from '../../../test/lib/require.js';
import { dnsRedirectRuleset } from '../src/index.js';
import { backendCases, missingPart } from './lib.js';
import { dig, redirectZone } from './nsd.js';

requireParts(missingPart);

// Real tools in namespaces: slower than tap's 30 s default on 2 busy cores.
t.setTimeout(240_000);

const asGid = (gid: number) => ['--regid', String(gid), '--clear-groups'];
const forwarder = '192.0.2.54';
const direct = '192.0.2.53';

/** Gives the namespace a default route (IPv4 and IPv6) through a veth, so far destinations reach nat OUTPUT. */
function addDefaultRoutes(ns: Namespace): void {
  ns.ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ns.ip('link', 'set', 'v0', 'up');
  ns.ip('link', 'set', 'v1', 'up');
  addAddress(ns, 'v0', '192.0.2.1/24');
  addAddress(ns, 'v0', '2001:db8::1/64');
  ns.ip('route', 'add', 'default', 'via', '192.0.2.254');
  ns.ip('-6', 'route', 'add', 'default', 'via', '2001:db8::ff');
}

for (const c of backendCases) {
  t.test(`${c.name}: gid 800's DNS goes to port 54, gid 801's does not`, async (t) => {
    const ns = createNamespace(t, 'dns');
    await startNsd(t, redirectZone(forwarder), { ns, addresses: ['127.0.0.1', '::1'], port: 54 });
    await startNsd(t, redirectZone(direct), { ns, addresses: ['127.0.0.1', '::1'], port: 53 });
    const fw = c.make(ns.name);
    t.equal(dig(ns, asGid(800), '127.0.0.1'), direct, 'before apply, nothing is redirected');

    await fw.apply(dnsRedirectRuleset({ gid: 800, port: 54, ipv4: '127.0.0.1', ipv6: '::1' }));
    t.equal(ns.exec('sysctl', '-n', 'net.ipv4.conf.all.route_localnet').trim(), '0', 'no route_localnet needed');
    for (const tcp of [false, true]) {
      const proto = tcp ? 'TCP' : 'UDP';
      t.equal(dig(ns, asGid(800), '127.0.0.1', 53, tcp), forwarder, `gid 800, IPv4 ${proto}: redirected`);
      t.equal(dig(ns, asGid(800), '::1', 53, tcp), forwarder, `gid 800, IPv6 ${proto}: redirected to [::1]:54`);
      t.equal(dig(ns, asGid(801), '127.0.0.1', 53, tcp), direct, `gid 801, IPv4 ${proto}: not redirected`);
      t.equal(dig(ns, asGid(801), '::1', 53, tcp), direct, `gid 801, IPv6 ${proto}: not redirected`);
    }

    // Any destination, but it needs a route: without one the packet never reaches nat OUTPUT.
    t.match(dig(ns, asGid(800), '198.51.100.53'), /^error: /, 'no route to the original destination: no answer');
    addDefaultRoutes(ns);
    for (const tcp of [false, true]) {
      t.equal(dig(ns, asGid(800), '198.51.100.53', 53, tcp), forwarder, `any IPv4 destination (${tcp ? 'TCP' : 'UDP'})`);
      t.equal(dig(ns, asGid(800), '2001:db8:53::53', 53, tcp), forwarder, `any IPv6 destination (${tcp ? 'TCP' : 'UDP'})`);
    }
    t.match(dig(ns, asGid(801), '198.51.100.53'), /^error: /, 'gid 801 is not redirected to a far server either');

    await fw.remove();
    t.equal(dig(ns, asGid(800), '127.0.0.1'), direct, 'after remove, nothing is redirected');
  });
}

t.test('iptables --suppl-groups: a process with 800 as a supplementary group is redirected too', async (t) => {
  const c = backendCases.find((b) => b.name === 'iptables-nft');
  if (!c) throw new Error('no iptables-nft case');
  const ns = createNamespace(t, 'dns');
  await startNsd(t, redirectZone(forwarder), { ns, addresses: ['127.0.0.1', '::1'], port: 54 });
  await startNsd(t, redirectZone(direct), { ns, addresses: ['127.0.0.1', '::1'], port: 53 });
  const fw = c.make(ns.name);
  const suppl = ['--regid', '801', '--groups', '800'];
  await fw.apply(dnsRedirectRuleset({ gid: 800 }));
  t.equal(dig(ns, suppl, '127.0.0.1'), direct, 'without supplGroups only the primary gid counts');
  await fw.apply(dnsRedirectRuleset({ gid: 800, supplGroups: true }));
  t.equal(dig(ns, suppl, '127.0.0.1'), forwarder, 'with supplGroups the supplementary group counts');
  t.equal(dig(ns, suppl, '::1'), forwarder);
  t.equal(dig(ns, asGid(801), '127.0.0.1'), direct, 'other groups still not redirected');
});
