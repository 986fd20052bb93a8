import { proc, timers, files } from '@meshwan/os';
import { NetlinkSocket } from './src/socket.js';
import { streamRoutes } from './src/routes.js';
import { formatRoute, formatRouteJson } from './src/format.js';
import { encodeRouteDump } from './src/codec/route.js';
import { RTM_GETROUTE } from './src/codec/constants.js';

const mode = proc.argv[0];
const sock = NetlinkSocket.open({});
const t0 = timers.now();
let n = 0;
let out = '';
const name = (i: number) => 'va';
if (mode === 'raw') sock.dumpOnce(encodeRouteDump(RTM_GETROUTE, 0, 6, undefined), 'x', 'x', () => { n++; });
else streamRoutes(sock, { family: 6 }, (r) => {
  n++;
  if (mode === 'decode') return;
  const line = mode === 'json' ? formatRouteJson(r, name) : formatRoute(r, name, true);
  if (mode === 'format') return;
  out += line + '\n';
  if (out.length > 65536) { files.writeText(1, out); out = ''; }
});
files.writeText(1, out);
proc.writeStderr(`${mode} ${n} ${(timers.now() - t0).toFixed(0)} ms\n`);
