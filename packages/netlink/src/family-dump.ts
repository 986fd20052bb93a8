/** The dump listAddresses and listRules share: one family (or both), the list restarted when the kernel says so. */
import type { IpFamily } from '@meshwan/os';
import { AF_INET, AF_INET6, AF_UNSPEC, familyNames } from './codec/constants.js';
import type { MessageWriter } from './codec/message.js';
import type { NetlinkSocket, Visit } from './socket.js';

/** `keep` decodes a message of the dump, or says undefined for one that is not ours. */
export function dumpFamily<T>(
  sock: NetlinkSocket,
  op: string,
  family: IpFamily | undefined,
  request: (af: number) => MessageWriter,
  keep: (...message: Parameters<Visit>) => T | undefined,
): T[] {
  let out: T[] = [];
  const af = family === 4 ? AF_INET : family === 6 ? AF_INET6 : AF_UNSPEC;
  sock.dump(
    () => request(af),
    op,
    family ? familyNames[family] : '',
    (...message) => {
      const value = keep(...message);
      if (value !== undefined) out.push(value);
    },
    () => {
      out = [];
    },
  );
  return out;
}
