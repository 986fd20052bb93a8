/** Netlink over meshwan:netio; readiness from QuickJS's own loop (os.setReadHandler), so no thread and no poll. */
import * as netio from 'meshwan:netio';
import * as os from 'os';
import { netlinkTransport } from '../netlink-binding.js';

export const netlink = netlinkTransport(netio, (fd, fn) => {
  os.setReadHandler(fd, fn);
  return () => os.setReadHandler(fd, null);
});
