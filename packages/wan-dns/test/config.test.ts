import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfig } from '@meshwan/uci';
import t from 'tap';
import { parseResolv, parseStaticServers, readStaticServers, readUpstreams } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

t.test('resolv file: nameserver lines, link-local %dev scopes, comments and other keywords ignored', async (t) => {
  const servers = parseResolv(
    '# written by update.lua\nsearch lan\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver fe80::1%wan\n; x\noptions ndots:1\n\n',
    'resolv.conf',
  );
  t.same(servers, [
    { address: '192.0.2.53', port: 53, family: 4 },
    { address: '2001:db8::53', port: 53, family: 6 },
    { address: 'fe80::1', port: 53, family: 6, scope: 'wan' },
  ]);
});

t.test('resolv file errors name file:line', async (t) => {
  t.throws(() => parseResolv('nameserver 192.0.2.1\nnameserver banana\n', '/var/r.conf'), {
    name: 'ConfigError',
    file: '/var/r.conf',
    line: 2,
    field: 'nameserver',
  });
  t.throws(() => parseResolv('nameserver\n', 'r'), /^r:1: nameserver: expected one address/);
  t.throws(() => parseResolv('nameserver 1.2.3.4 5.6.7.8\n', 'r'), /r:1: nameserver/);
});

const gluonDefault = `
config static
\t# list server '192.168.0.1'
`;

/** A root with ROOT/etc/config/gluon-wan-dnsmasq holding `text`. */
function rootWith(text: string): string {
  const root = mkdtempSync(join(tmpdir(), 'wan-dns-config-'));
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  writeFileSync(join(root, 'etc/config/gluon-wan-dnsmasq'), text);
  return root;
}

t.test('uci: the server list of the first static section, Gluon format', async (t) => {
  t.same(readStaticServers(rootWith(gluonDefault)), []);
  const servers = readStaticServers(
    rootWith(
      "config static 'static'\n\tlist server '192.0.2.53'\n\tlist server '[2001:db8::53]:5353'\n\nconfig static\n\tlist server '198.51.100.1'\n",
    ),
  );
  t.same(servers, [
    { address: '192.0.2.53', port: 53, family: 4 },
    { address: '2001:db8::53', port: 5353, family: 6 },
  ]);
  t.same(readStaticServers(rootWith("config static\n\toption server '192.0.2.9'\n")), [{ address: '192.0.2.9', port: 53, family: 4 }]);
  t.same(readStaticServers(rootWith('config other\n')), []);
  t.same(readStaticServers(join(tmpdir(), 'wan-dns-no-such-root')), [], 'no package: no servers');
});

t.test('uci errors name the file and option, or file:line for a parse error', async (t) => {
  const root = rootWith("config static\n\tlist server '192.0.2.53'\n\tlist server 'nope'\n");
  t.throws(() => readStaticServers(root), {
    name: 'ConfigError',
    file: join(root, 'etc/config/gluon-wan-dnsmasq'),
    field: 'static.server',
    message: /"nope"/,
  });
  const err = t.throws(() => readStaticServers(rootWith("config static\n\tlist server '192.0.2.53\n")));
  t.ok(err instanceof ConfigError);
  t.equal((err as ConfigError).line, 2);
  t.same(parseStaticServers(undefined, 'f'), []);
});

t.test('uci: a staged (uncommitted) change in ROOT/tmp/.uci counts, as for netifd and uci show', async (t) => {
  const root = rootWith("config static 'static'\n\tlist server '192.0.2.53'\n");
  mkdirSync(join(root, 'tmp/.uci'), { recursive: true, mode: 0o700 }); // libuci's uci_save makes it on a node
  openConfig({ root }).set('gluon-wan-dnsmasq', 'static', 'server', '198.51.100.9');
  t.ok(existsSync(join(root, 'tmp/.uci/gluon-wan-dnsmasq')), 'staged under the root');
  t.same(readStaticServers(root), [{ address: '198.51.100.9', port: 53, family: 4 }]);
});

t.test('readUpstreams: --server, else uci static, else the resolv file; missing files are no servers', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wan-dns-config-'));
  const configFile = join(root, 'etc/config/gluon-wan-dnsmasq');
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  const resolvFile = join(root, 'resolv.conf');
  t.same(readUpstreams({ servers: [], root, resolvFile }), { servers: [], source: resolvFile });
  writeFileSync(resolvFile, 'nameserver 192.0.2.1\n');
  t.same(readUpstreams({ servers: [], root, resolvFile }).servers, [{ address: '192.0.2.1', port: 53, family: 4 }]);
  writeFileSync(configFile, gluonDefault);
  t.equal(readUpstreams({ servers: [], root, resolvFile }).source, resolvFile);
  writeFileSync(configFile, "config static\n\tlist server '198.51.100.1'\n");
  t.same(readUpstreams({ servers: [], root, resolvFile }), {
    servers: [{ address: '198.51.100.1', port: 53, family: 4 }],
    source: configFile,
  });
  const flag = [{ address: '203.0.113.1', port: 53, family: 4 as const }];
  t.same(readUpstreams({ servers: flag, root, resolvFile }), { servers: flag, source: '--server' });
  t.throws(() => readUpstreams({ servers: [], root: join(root, 'none'), resolvFile: root }), /cannot read: EISDIR/);
});
