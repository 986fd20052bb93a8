import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfig } from '@meshwan/uci';
import t from 'tap';
import { loadConfig, parseConfig, probeMark, RTPROT_UPLINKS, type SectionLike } from '../src/config.js';
import { UplinksConfigError } from '../src/errors.js';

const text = `
config globals 'globals'
	option table '1'
	option metric '20'

config interface 'wan6'
	option device 'eth1'
	option family 'ipv6'
	option gateway 'fe80::1'
	list track_ip '2001:db8::1'
	list track_ip '2001:db8::2'
	option reliability '2'
	option timeout '0.5'
	option interval '1'
	option up '2'
	option down '3'
	list dns_server '2001:db8::53'

config interface 'wwan'
	option device 'wwan0'
	option family 'ipv6'
	option enabled '0'

config interface 'wan'
	option device 'eth1'
	option family 'ipv4'
	option metric '2'
	option weight '5'

config member 'wan6_m1_w3'
	option interface 'wan6'
	option metric '1'
	option weight '3'
`;

t.test('reads mwan3-style sections through @meshwan/uci', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc/config'), { recursive: true });
  writeFileSync(join(dir, 'etc/config/meshwan-uplinks'), text);
  const c = loadConfig(openConfig({ root: dir }));
  t.equal(c.globals.table, 1);
  t.equal(c.globals.metric, 20);
  t.equal(c.globals.protocol, RTPROT_UPLINKS);
  t.same(
    c.uplinks.map((u) => u.name),
    ['wan6', 'wwan', 'wan'],
  );
  const [wan6, wwan, wan] = c.uplinks;
  t.match(wan6, {
    device: 'eth1',
    family: 6,
    gateway: 'fe80::1',
    trackIps: ['2001:db8::1', '2001:db8::2'],
    reliability: 2,
    timeoutMs: 500,
    intervalMs: 1000,
    up: 2,
    down: 3,
    metric: 1,
    weight: 3,
    dnsServers: ['2001:db8::53'],
  });
  t.match(wwan, { enabled: false, gateway: undefined, trackIps: [], metric: 1, weight: 1, intervalMs: 500, down: 2, up: 3 });
  t.match(wan, { family: 4, metric: 2, weight: 5 });
  t.same(loadConfig(openConfig({ root: join(dir, 'missing') })).uplinks, [], 'no config file: no uplinks');
});

t.test('track_method dns: name and type to ask, ping by default', async (t) => {
  const c = parseConfig([
    { name: 'p', type: 'interface', options: { device: 'eth1' } },
    { name: 'd', type: 'interface', options: { device: 'eth2', track_method: 'dns' } },
    {
      name: 'q',
      type: 'interface',
      options: { device: 'eth3', track_method: 'dns', track_dns_name: 'vpn.example.org', track_dns_type: 'aaaa' },
    },
    { name: 'n', type: 'interface', options: { device: 'eth4', track_method: 'dns', track_dns_type: '65' } },
  ]);
  t.match(c.uplinks[0], { trackMethod: 'ping', dnsName: '.', dnsType: 2 });
  t.match(c.uplinks[1], { trackMethod: 'dns', dnsName: '.', dnsType: 2 });
  t.match(c.uplinks[2], { trackMethod: 'dns', dnsName: 'vpn.example.org', dnsType: 28 });
  t.match(c.uplinks[3], { dnsType: 65 });
});

t.test('probe marks stay inside probe_mask', async (t) => {
  const c = parseConfig([]);
  t.same(probeMark(c.globals, 0), { mark: 0x100, mask: 0xff00 });
  t.same(probeMark(c.globals, 2), { mark: 0x300, mask: 0xff00 });
});

const bad: [string, Record<string, string | string[]>, RegExp][] = [
  ['no device', { family: 'ipv6' }, /wan\.device: missing/],
  ['family', { device: 'eth1', family: 'ipx' }, /wan\.family: expected ipv4 or ipv6, got "ipx"/],
  ['weight', { device: 'eth1', weight: '300' }, /wan\.weight: expected an integer 1\.\.256, got "300"/],
  ['gateway family', { device: 'eth1', gateway: '192.0.2.1' }, /wan\.gateway: expected an ipv6 address, got "192\.0\.2\.1"/],
  ['interval', { device: 'eth1', interval: 'soon' }, /wan\.interval: expected seconds/],
  ['enabled', { device: 'eth1', enabled: 'maybe' }, /wan\.enabled: expected a boolean/],
  ['track_method', { device: 'eth1', track_method: 'httping' }, /wan\.track_method: expected ping or dns, got "httping"/],
  [
    'track_dns_type',
    { device: 'eth1', track_dns_type: 'AXFR' },
    /wan\.track_dns_type: expected A, NS, .* or a number 1\.\.65535, got "AXFR"/,
  ],
  ['track_dns_type 0', { device: 'eth1', track_dns_type: '0' }, /wan\.track_dns_type: .* got "0"/],
  [
    'track_dns_name',
    { device: 'eth1', track_dns_name: 'a..b' },
    /wan\.track_dns_name: expected labels of 1\.\.63 characters, got "a\.\.b"/,
  ],
  ['track_dns_name spaces', { device: 'eth1', track_dns_name: 'a b' }, /wan\.track_dns_name: expected printable ASCII/],
  ['track_dns_name length', { device: 'eth1', track_dns_name: `${'a.'.repeat(130)}b` }, /wan\.track_dns_name: longer than 253/],
  ['list where one value', { device: ['eth1', 'eth2'] }, /wan\.device: expected a single value/],
];
for (const [what, options, re] of bad) {
  t.test(`rejects ${what} naming section and option`, async (t) => {
    t.throws(() => parseConfig([{ name: 'wan', type: 'interface', options }], 'f'), re);
    try {
      parseConfig([{ name: 'wan', type: 'interface', options }], 'f');
    } catch (err: unknown) {
      t.ok(err instanceof UplinksConfigError && err.file === 'f' && err.section === 'wan');
    }
  });
}

t.test('members must name an interface that exists; probe marks must fit', async (t) => {
  t.throws(() => parseConfig([{ name: 'm', type: 'member', options: {} }]), /m\.interface: missing/);
  t.throws(() => parseConfig([{ name: 'm', type: 'member', options: { interface: 'nope' } }]), /no config interface 'nope'/);
  const two: SectionLike[] = [
    { name: 'g', type: 'globals', options: { probe_mask: '0x2' } },
    { name: 'a', type: 'interface', options: { device: 'a' } },
    { name: 'b', type: 'interface', options: { device: 'b' } },
  ];
  t.throws(() => parseConfig(two), /g\.probe_mask: 2 uplinks need more probe marks than 0x2 holds/);
});

t.test("the protocol may not be policy's 77: ownership by protocol would overlap", async (t) => {
  t.throws(
    () => parseConfig([{ name: 'g', type: 'globals', options: { protocol: '77' } }]),
    /g\.protocol: 77 is the policy package's \(meshwan\); pick another/,
  );
  t.equal(parseConfig([{ name: 'g', type: 'globals', options: { protocol: '79' } }]).globals.protocol, 79);
});
