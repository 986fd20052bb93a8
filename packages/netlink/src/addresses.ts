/** Addresses: dump, add, replace, delete (RTM_GETADDR/NEWADDR/DELADDR). */

import type { IpFamily } from '@meshwan/os';
import { type Address, type AddressSpec, decodeAddress, encodeAddress } from './codec/address.js';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './codec/constants.js';
import { MessageWriter } from './codec/message.js';
import { dumpFamily } from './family-dump.js';
import type { NetlinkSocket } from './socket.js';

export function listAddresses(sock: NetlinkSocket, family?: IpFamily): Address[] {
  return dumpFamily(
    sock,
    'listAddresses',
    family,
    (af) => new MessageWriter(RTM_GETADDR, 0).u8(af).u8(0).u8(0).u8(0).u32(0),
    (buf, h, off, end) => (h.type === RTM_NEWADDR ? decodeAddress(buf, off, end) : undefined),
  );
}

function describeAddress(spec: AddressSpec): string {
  return `${spec.address} dev ${spec.index}`;
}

export function addAddress(sock: NetlinkSocket, spec: AddressSpec): void {
  sock.ack(encodeAddress(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, spec), 'addAddress', describeAddress(spec));
}

export function replaceAddress(sock: NetlinkSocket, spec: AddressSpec): void {
  sock.ack(encodeAddress(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, spec), 'replaceAddress', describeAddress(spec));
}

export function deleteAddress(sock: NetlinkSocket, spec: AddressSpec): void {
  sock.ack(encodeAddress(RTM_DELADDR, 0, spec), 'deleteAddress', describeAddress(spec));
}
