/** The UDP listeners: one dgram socket per --listen address, handing each datagram to the forwarder. */
import { createSocket, type Socket } from 'node:dgram';
import type { Endpoint } from '@meshwan/site';
import { LocalClients } from './clients.js';
import { StartError } from './errors.js';
import type { Forwarder } from './forwarder.js';
import type { Counters } from './stats.js';
import { endpointKey } from './upstreams.js';

export async function listenUdp(endpoint: Endpoint, forwarder: Forwarder, counters: Counters, allowRemote: boolean): Promise<Socket> {
  const socket = createSocket({ type: endpoint.family === 6 ? 'udp6' : 'udp4', ipv6Only: endpoint.family === 6 });
  const clients = new LocalClients(allowRemote);
  socket.on('message', (msg, rinfo) => {
    // Port 0 cannot be answered (dgram refuses it): only a forged packet has it.
    if (rinfo.port === 0 || !clients.allowed(rinfo.address)) {
      counters.refusedClients++;
      return;
    }
    counters.udpQueries++;
    try {
      forwarder.handle(msg, true, (answer) => {
        socket.send(answer, rinfo.port, rinfo.address);
      });
    } catch (err: unknown) {
      forwarder.internalError(err);
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new StartError(`udp ${endpointKey(endpoint)}`, err.code ?? err.message));
    socket.once('error', onError);
    socket.bind(
      { port: endpoint.port, address: endpoint.scope ? `${endpoint.address}%${endpoint.scope}` : endpoint.address, exclusive: true },
      () => {
        socket.off('error', onError);
        // A send error to one client (e.g. ICMP unreachable reported on the socket) must not end the listener.
        socket.on('error', () => {});
        resolve();
      },
    );
  });
  return socket;
}
