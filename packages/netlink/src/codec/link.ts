/** RTM_NEWLINK/RTM_DELLINK bodies: struct ifinfomsg (16 bytes) + IFLA_* attributes (linux/if_link.h). */
import { DecodeError } from '../errors.js';
import { attributeTable, readAttributes } from './attributes.js';
import { i32, u16, u32 } from './bytes.js';
import { IFF_LOWER_UP, IFF_UP, operStates } from './constants.js';
import { NLMSG_HDRLEN, type RawAttribute } from './message.js';

export interface Link {
  index: number;
  name: string;
  /** IFF_UP: the administrator's choice (`ip link set X up`) */
  adminUp: boolean;
  /** IFLA_CARRIER (or IFF_LOWER_UP when absent): the physical/peer state, reported apart from adminUp */
  carrier: boolean;
  /** IFLA_OPERSTATE as RFC 2863 names it ('up', 'down', 'lowerlayerdown', ...) */
  operstate: string;
  mtu: number;
  /** ARPHRD_* from ifi_type */
  linkType: number;
  /** hardware address as aa:bb:..; empty when the link has none */
  address: string;
  broadcast: string;
  /** ifi_flags (IFF_*) */
  flags: number;
  master?: number;
  link?: number;
  unknown: RawAttribute[];
}

function mac(buf: Uint8Array, s: number, e: number): string {
  const parts: string[] = [];
  for (let i = s; i < e; i++) parts.push((buf[i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** One byte of payload, or DecodeError naming the attribute. */
function byteOf(name: string, buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 1) throw new DecodeError(s, `${name}: expected 1 byte`);
  return buf[s] ?? 0;
}

const linkAttributes = attributeTable<Link>({
  string: { IFLA_IFNAME: 'name' },
  u32: { IFLA_MTU: 'mtu', IFLA_MASTER: 'master', IFLA_LINK: 'link' },
  read: {
    IFLA_ADDRESS: (link, buf, s, e) => {
      link.address = mac(buf, s, e);
    },
    IFLA_BROADCAST: (link, buf, s, e) => {
      link.broadcast = mac(buf, s, e);
    },
    IFLA_OPERSTATE: (link, buf, s, e) => {
      const state = byteOf('IFLA_OPERSTATE', buf, s, e);
      link.operstate = operStates[state] ?? `${state}`;
    },
    IFLA_CARRIER: (link, buf, s, e) => {
      link.carrier = byteOf('IFLA_CARRIER', buf, s, e) !== 0;
    },
  },
});

/** Decodes the body of an RTM_NEWLINK/RTM_DELLINK message starting at `offset` (the nlmsghdr). */
export function decodeLink(buf: Uint8Array, offset: number, end: number): Link {
  const body = offset + NLMSG_HDRLEN;
  if (end - body < 16) throw new DecodeError(body, `ifinfomsg needs 16 bytes, have ${end - body}`);
  const flags = u32(buf, body + 8);
  const link: Link = {
    index: i32(buf, body + 4),
    name: '',
    adminUp: (flags & IFF_UP) !== 0,
    carrier: (flags & IFF_LOWER_UP) !== 0,
    operstate: 'unknown',
    mtu: 0,
    linkType: u16(buf, body + 2),
    address: '',
    broadcast: '',
    flags,
    unknown: [],
  };
  readAttributes(buf, body + 16, end, linkAttributes, link);
  return link;
}
