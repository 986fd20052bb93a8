import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseResolv, parseStaticServers, readUpstreams } from '../src/config.js';
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

t.test('uci: the server list of the first static section, Gluon format', async (t) => {
  t.same(parseStaticServers(gluonDefault, 'gluon-wan-dnsmasq'), []);
  const servers = parseStaticServers(
    "config static 'static'\n\tlist server '192.0.2.53'\n\tlist server '[2001:db8::53]:5353'\n\nconfig static\n\tlist server '198.51.100.1'\n",
    'f',
  );
  t.same(servers, [
    { address: '192.0.2.53', port: 53, family: 4 },
    { address: '2001:db8::53', port: 5353, family: 6 },
  ]);
  t.same(parseStaticServers("config static\n\toption server '192.0.2.9'\n", 'f'), [{ address: '192.0.2.9', port: 53, family: 4 }]);
  t.same(parseStaticServers('config other\n', 'f'), []);
});

t.test('uci errors name file:line', async (t) => {
  t.throws(() => parseStaticServers("config static\n\tlist server '192.0.2.53'\n\tlist server 'nope'\n", '/etc/config/gluon-wan-dnsmasq'), {
    name: 'ConfigError',
    file: '/etc/config/gluon-wan-dnsmasq',
    line: 3,
    field: 'static.server',
  });
  const err = t.throws(() => parseStaticServers("config static\n\tlist server '192.0.2.53\n", 'g'));
  t.ok(err instanceof ConfigError);
  t.equal((err as ConfigError).line, 2);
});

t.test('readUpstreams: --server, else uci static, else the resolv file; missing files are no servers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-config-'));
  const configFile = join(dir, 'gluon-wan-dnsmasq');
  const resolvFile = join(dir, 'resolv.conf');
  t.same(readUpstreams({ servers: [], configFile, resolvFile }), { servers: [], source: resolvFile });
  writeFileSync(resolvFile, 'nameserver 192.0.2.1\n');
  t.same(readUpstreams({ servers: [], configFile, resolvFile }).servers, [{ address: '192.0.2.1', port: 53, family: 4 }]);
  writeFileSync(configFile, gluonDefault);
  t.equal(readUpstreams({ servers: [], configFile, resolvFile }).source, resolvFile);
  writeFileSync(configFile, "config static\n\tlist server '198.51.100.1'\n");
  t.same(readUpstreams({ servers: [], configFile, resolvFile }), {
    servers: [{ address: '198.51.100.1', port: 53, family: 4 }],
    source: configFile,
  });
  const flag = [{ address: '203.0.113.1', port: 53, family: 4 as const }];
  t.same(readUpstreams({ servers: flag, configFile, resolvFile }), { servers: flag, source: '--server' });
  t.throws(() => readUpstreams({ servers: [], configFile: dir, resolvFile }), /cannot read: EISDIR/);
});
