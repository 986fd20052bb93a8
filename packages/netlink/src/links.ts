/** Links: dump and lookup by name (RTM_GETLINK). Links are read-only here; meshwan never creates interfaces. */
import { AF_UNSPEC, IFLA_IFNAME, RTM_GETLINK, RTM_NEWLINK } from './codec/constants.js';
import { decodeLink, type Link } from './codec/link.js';
import { MessageWriter } from './codec/message.js';
import type { NetlinkSocket } from './socket.js';

function ifinfo(writer: MessageWriter, index = 0): MessageWriter {
  return writer.u8(AF_UNSPEC).u8(0).u16(0).i32(index).u32(0).u32(0);
}

export function listLinks(sock: NetlinkSocket): Link[] {
  let out: Link[] = [];
  sock.dump(
    () => ifinfo(new MessageWriter(RTM_GETLINK, 0)),
    'listLinks',
    '',
    (buf, h, off, end) => {
      if (h.type === RTM_NEWLINK) out.push(decodeLink(buf, off, end));
    },
    () => {
      out = [];
    },
  );
  return out;
}

/** One link by name or index; throws NetlinkError ENODEV when there is none. */
export function getLink(sock: NetlinkSocket, dev: string | number): Link {
  const w = ifinfo(new MessageWriter(RTM_GETLINK, 0), typeof dev === 'number' ? dev : 0);
  if (typeof dev === 'string') w.attrString(IFLA_IFNAME, dev);
  let link: Link | undefined;
  sock.get(w, 'getLink', String(dev), (buf, h, off, end) => {
    if (h.type === RTM_NEWLINK) link = decodeLink(buf, off, end);
  });
  if (!link) throw new Error(`getLink ${dev}: no reply`);
  return link;
}
