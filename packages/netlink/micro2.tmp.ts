import { proc, timers } from '@meshwan/os';
import { NetlinkSocket } from './src/socket.js';
import { encodeRouteDump, blankRoute, decodeRouteInto } from './src/codec/route.js';
import { RTM_GETROUTE } from './src/codec/constants.js';
import { formatIp } from './src/codec/ip.js';
import { formatRoute, formatRouteJson } from './src/format.js';

const sock = NetlinkSocket.open({});
const msgs: [Uint8Array, number][] = [];
sock.dumpOnce(encodeRouteDump(RTM_GETROUTE, 0, 6, undefined), 'x', 'x', (buf, h, off, end) => {
  if (msgs.length < 2000 && h.type === 24) msgs.push([buf.slice(off, end), end - off]);
});
const r = blankRoute();
const N = 50;
const time = (label: string, f: (b: Uint8Array, n: number) => void) => {
  const t = timers.now();
  for (let k = 0; k < N; k++) for (const [b, n] of msgs) f(b, n);
  proc.writeStderr(`${label} ${(((timers.now() - t) * 1000) / N / msgs.length).toFixed(2)} us/route\n`);
};
const name = () => 'va';
time('nothing', () => {});
time('decodeInto', (b, n) => decodeRouteInto(b, 0, n, r));
time('formatIp dst', (b, n) => formatIp(b, 36, 16));
time('decode+format', (b, n) => formatRoute(decodeRouteInto(b, 0, n, r), name, true));
time('decode+json', (b, n) => formatRouteJson(decodeRouteInto(b, 0, n, r), name));
decodeRouteInto(msgs[0]![0], 0, msgs[0]![1], r);
time('format only', () => formatRoute(r, name, true));
time('json only', () => formatRouteJson(r, name));
proc.writeStderr(JSON.stringify(r) + '\n' + formatRoute(r, name, true) + '\n');
