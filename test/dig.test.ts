/** test/lib/dig.ts: the one dig command line and output reader every suite uses. */
import t from 'tap';
import { digArgv, parseDig } from './lib/dig.js';

const full = `; <<>> DiG 9.18 <<>> @127.0.0.1 -p 5353 www.example.test A
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1
;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 1

;; QUESTION SECTION:
;www.example.test.		IN	A

;; ANSWER SECTION:
www.example.test.	300	IN	A	192.0.2.80

;; AUTHORITY SECTION:
example.test.		300	IN	NS	ns.example.test.

;; Query time: 0 msec
`;

t.test('parseDig reads status, flags and the answer section of full output', async (t) => {
  const r = parseDig(full, 0);
  t.equal(r.status, 'NOERROR');
  t.equal(r.flags, 'qr aa rd');
  t.same(r.records, ['www.example.test.\t300\tIN\tA\t192.0.2.80'], 'the authority section is not an answer');
  t.same(r.answers, ['192.0.2.80']);
});

t.test('parseDig reads +noall +comments +answer output; TXT quotes dropped', async (t) => {
  const out = ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\nprobe.meshwan.test. 0 IN TXT "wan-a"\n';
  const r = parseDig(out, 0);
  t.same(r, { status: 'NOERROR', flags: '', records: ['probe.meshwan.test. 0 IN TXT "wan-a"'], answers: ['wan-a'], output: out });
});

t.test('parseDig: no reply is TIMEOUT, anything else without a status is ERROR', async (t) => {
  t.equal(parseDig(';; communications error to 192.0.2.1#53: timed out\n', 9).status, 'TIMEOUT');
  t.equal(parseDig('', 9).status, 'TIMEOUT');
  t.equal(parseDig("dig: couldn't get address for 'x': not found\n", 10).status, 'ERROR');
});

t.test('digArgv: namespace, setpriv, then dig with one try', async (t) => {
  t.same(digArgv({ server: '192.0.2.1', name: 'a.test' }), ['dig', '+time=2', '+tries=1', '@192.0.2.1', 'a.test', 'A']);
  const argv = digArgv({
    server: '::1',
    name: 'a.test',
    type: 'TXT',
    port: 54,
    tcp: true,
    gid: 800,
    uid: 65534,
    netns: 'n1',
    options: ['+short'],
  });
  t.match(argv.slice(0, 4).join(' '), /^ip \S+ exec n1$/, 'in the namespace');
  t.same(argv.slice(4), [
    'setpriv',
    '--regid=800',
    '--clear-groups',
    '--reuid=65534',
    '--',
    'dig',
    '+time=2',
    '+tries=1',
    '+tcp',
    '+short',
    '-p',
    '54',
    '@::1',
    'a.test',
    'TXT',
  ]);
});
