/**
 * The UDP listeners: one socket per --listen address, handing each datagram to the forwarder; a plain fd read and
 * written in batches (batch-io.ts) through the seam's sockets.
 */
import { OsError } from '@meshwan/os';
import type { Endpoint } from '@meshwan/site';
import { type BatchIo, type DatagramHandler, peerOf } from './batch-io.js';
import { LocalClients } from './clients.js';
import { StartError } from './errors.js';
import type { Forwarder, Reply } from './forwarder.js';
import type { Counters } from './stats.js';
import { endpointKey } from './upstreams.js';

export interface UdpListener {
  close(): void;
}

/** A listener on the batched I/O: answers leave in the same batch's sendmmsg. */
class BatchedListener implements DatagramHandler, UdpListener {
  private readonly clients: LocalClients;
  private current = -1;
  tag = -1;
  /** Replies to the datagram being handled: valid only during forwarder.handle(). */
  private readonly replyNow: Reply = (answer) => this.io.replyTo(this.fd, this.current, answer);
  /** A reply for a query that waits for an upstream: the client's address copied out of the batch. */
  private readonly keep = (): Reply => {
    const peer = this.io.source(this.current);
    return (answer) => this.io.sendTo(this.fd, peer, answer);
  };

  constructor(
    readonly fd: number,
    private readonly io: BatchIo,
    private readonly forwarder: Forwarder,
    private readonly counters: Counters,
    allowRemote: boolean,
  ) {
    this.clients = new LocalClients(allowRemote);
  }

  onDatagram(msg: Uint8Array, index: number): void {
    // Port 0 cannot be answered: only a forged packet has it.
    if (
      this.io.sourcePort(index) === 0 ||
      !(this.clients.allowRemote || this.io.fromLoopback(index) || this.clients.allowed(this.io.sourceText(index)))
    ) {
      this.counters.refusedClients++;
      return;
    }
    this.counters.udpQueries++;
    this.current = index;
    try {
      this.forwarder.handle(msg, true, this.replyNow, this.keep);
    } catch (err: unknown) {
      this.forwarder.internalError(err);
    }
  }

  onTruncated(): void {
    // A "query" longer than 4096 bytes: no DNS client sends that over UDP.
    this.counters.queries++;
    this.counters.malformed++;
  }

  close(): void {
    this.io.remove(this.fd, this.tag);
    try {
      this.io.addon.closeFd(this.fd);
    } catch {
      // already closed
    }
  }
}

export function listenBatched(
  endpoint: Endpoint,
  io: BatchIo,
  forwarder: Forwarder,
  counters: Counters,
  allowRemote: boolean,
): UdpListener {
  const peer = peerOf(io.addon, endpoint.family, endpoint.address, endpoint.port, endpoint.scope);
  if (peer === undefined) throw new StartError(`udp ${endpointKey(endpoint)}`, 'EINVAL');
  let fd: number;
  try {
    fd = io.addon.udpSocket(peer.family, peer.bytes(), peer.port, peer.scope);
  } catch (err: unknown) {
    throw new StartError(`udp ${endpointKey(endpoint)}`, err instanceof OsError ? err.code : String(err));
  }
  const listener = new BatchedListener(fd, io, forwarder, counters, allowRemote);
  listener.tag = io.add(fd, listener);
  return listener;
}
