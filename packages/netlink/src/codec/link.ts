/** RTM_NEWLINK/RTM_DELLINK bodies: struct ifinfomsg (16 bytes) + IFLA_* attributes (linux/if_link.h). */
import { DecodeError } from '../errors.js';
import { i32, u16, u32 } from './bytes.js';
import {
  IFF_LOWER_UP,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_CARRIER,
  IFLA_IFNAME,
  IFLA_LINK,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  operStates,
} from './constants.js';
import { copyBytes, forEachAttribute, NLMSG_HDRLEN, type RawAttribute, readStringAttr, readU32Attr } from './message.js';

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
  forEachAttribute(buf, body + 16, end, (type, s, e) => {
    switch (type) {
      case IFLA_IFNAME:
        link.name = readStringAttr(buf, s, e);
        break;
      case IFLA_MTU:
        link.mtu = readU32Attr(buf, 'IFLA_MTU', s, e);
        break;
      case IFLA_ADDRESS:
        link.address = mac(buf, s, e);
        break;
      case IFLA_BROADCAST:
        link.broadcast = mac(buf, s, e);
        break;
      case IFLA_OPERSTATE:
        if (e - s !== 1) throw new DecodeError(s, 'IFLA_OPERSTATE: expected 1 byte');
        link.operstate = operStates[buf[s] ?? 0] ?? `${buf[s]}`;
        break;
      case IFLA_CARRIER:
        if (e - s !== 1) throw new DecodeError(s, 'IFLA_CARRIER: expected 1 byte');
        link.carrier = buf[s] !== 0;
        break;
      case IFLA_MASTER:
        link.master = readU32Attr(buf, 'IFLA_MASTER', s, e);
        break;
      case IFLA_LINK:
        link.link = readU32Attr(buf, 'IFLA_LINK', s, e);
        break;
      default:
        link.unknown.push({ type, bytes: copyBytes(buf, s, e) });
    }
  });
  return link;
}
