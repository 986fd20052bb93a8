import { readFileSync } from 'node:fs';
import t from 'tap';
import { defaultSite, parseSite, renderSiteExample, SiteErrors } from '../src/index.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

function errorsOf(text: string, file = 'site.ini'): string[] {
  try {
    parseSite(text, file);
  } catch (err: unknown) {
    if (err instanceof SiteErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

t.test('an empty site file means Gluon defaults', async (t) => {
  const site = parseSite('', 'empty.ini');
  t.same(site, defaultSite());
  t.equal(site.wan.mark, 1);
  t.equal(site.wan.mask, 1);
  t.equal(site.wan.table, 1);
  t.equal(site.meshVpn.group, 'gluon-mesh-vpn');
  t.equal(site.meshVpn.gid, 800);
  t.same(
    site.wanDns.listen.map((e) => [e.address, e.port, e.family]),
    [
      ['127.0.0.1', 54, 4],
      ['::1', 54, 6],
    ],
  );
  t.equal(site.wanDns.cacheSize, 0);
  t.same(site.wanDns.servers, []);
  t.equal(site.firewall.backend, 'auto');
});

t.test('a full site file is read into typed values', async (t) => {
  const site = parseSite(readFileSync(fixture('gluon-like.ini'), 'utf8'), 'gluon-like.ini');
  t.same(site.wanDns.servers, [
    { address: '2001:db8::53', port: 53, family: 6 },
    { address: '192.0.2.53', port: 5353, family: 4 },
    { address: 'fe80::1', port: 53, family: 6, scope: 'wan' },
  ]);
});

t.test('numbers take hex, octal and decimal as strtoul base 0 does', async (t) => {
  t.equal(parseSite('[wan]\nmark = 0x10\nmask = 0xff\n').wan.mark, 16);
  t.equal(parseSite('[wan]\nmark = 010\nmask = 0xff\n').wan.mark, 8);
  t.equal(parseSite('[wan]\nmark = 2\nmask = 2\n').wan.mark, 2);
  t.equal(parseSite('[wan]\ntable = 4294967295\n').wan.table, 0xffffffff);
});

t.test('every mistake is reported with file, line and key', async (t) => {
  const messages = errorsOf(readFileSync(fixture('bad-typos.ini'), 'utf8'), 'bad-typos.ini');
  t.same(messages, [
    'bad-typos.ini:3: wan.mark: expected a number like 0x1, got "one"',
    'bad-typos.ini:4: wan.tabel: unknown key; [wan] takes mark, mask, table',
    'bad-typos.ini:7: mesh_vpn.gid: expected 1 to 65534, got "70000"',
    'bad-typos.ini:10: wan_dns.listen: expected a port 1-65535 after ":" in "127.0.0.1:99999"',
    'bad-typos.ini:13: firewal: unknown section [firewal]; known: wan, mesh_vpn, wan_dns, firewall',
  ]);
});

t.test('values that would build a leaking firmware are refused', async (t) => {
  t.match(errorsOf('[wan]\nmark = 0\n'), [/site.ini:2: wan.mark: a mark of 0 would match every unmarked packet/]);
  t.match(errorsOf('[wan]\nmark = 0x2\nmask = 0x1\n'), [/site.ini:2: wan.mark: mark 0x2 has bits outside mask 0x1/]);
  t.match(errorsOf('[wan]\ntable = 254\n'), [/site.ini:2: wan.table: table 254 is the kernel's "main" table/]);
  t.match(errorsOf('[wan]\ntable = -1\n'), [/wan.table: expected a number like 1, got "-1"/]);
  t.match(errorsOf('[firewall]\nbackend = pf\n'), [/site.ini:2: firewall.backend: expected one of auto, iptables, nft, got "pf"/]);
  t.match(errorsOf('[mesh_vpn]\ngroup = Bad Group\n'), [/mesh_vpn.group: expected a Unix group name/]);
  t.match(errorsOf('[wan_dns]\nlisten[] = [fe80::1%wan]:54\n'), [/wan_dns.listen: a listen address takes no %interface/]);
  t.match(errorsOf('[wan_dns]\nserver[] = dns.example\n'), [/wan_dns.server: expected an IPv4 or IPv6 address, got "dns.example"/]);
  t.match(errorsOf('[wan_dns]\ncache_size = 1.5\n'), [/wan_dns.cache_size: expected a number like 0/]);
});

t.test('syntax that npm ini would silently accept is an error', async (t) => {
  t.same(errorsOf('[wan]\nmark = 0x1\nmark = 0x1\n'), [
    'site.ini:3: wan.mark: set again (first at line 2); for a list write "mark[] = value" on each line',
  ]);
  t.same(errorsOf('[wan]\nmark\n'), ['site.ini:2: expected "key = value", got "mark"']);
  t.same(errorsOf('mark = 1\n'), ['site.ini:1: key outside of any section: put it under a header like [wan]']);
  t.same(errorsOf('[wan]\n[wan]\n'), ['site.ini:2: wan: section [wan] appears again (first at line 1)']);
  t.same(errorsOf('[]\n'), ['site.ini:1: empty section name "[]"']);
  t.same(errorsOf('[wan\n'), ['site.ini:1: expected a section header like [wan], got "[wan"']);
  t.same(errorsOf('[wan]\nmark[] = 0x1\n'), ['site.ini:2: wan.mark: takes one value: write "mark = value", not "mark[]"']);
  t.same(errorsOf('[wan]\nmark =\n'), ['site.ini:2: wan.mark: expected a number like 0x1, got ""']);
});

t.test('CRLF files and comments parse', async (t) => {
  t.equal(parseSite('; c\r\n# c\r\n[wan]\r\ntable = 7\r\n').wan.table, 7);
});

t.test('the shipped site.example.ini is the rendered schema and parses to the defaults', async (t) => {
  const example = renderSiteExample();
  t.same(parseSite(example, 'site.example.ini'), defaultSite());
  const shipped = readFileSync(new URL('../../../site.example.ini', import.meta.url), 'utf8');
  t.equal(shipped, example, 'site.example.ini is stale: run `node packages/site/bin/meshwan-site.js example > site.example.ini`');
});
