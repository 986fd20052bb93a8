/**
 * The one sysctl the split needs: net.ipv4.tcp_fwmark_accept (it covers IPv6 too). With it, a TCP connection
 * accepted from the WAN inherits the mark its SYN got from the connmark restore (mangle PREROUTING), so the
 * SYN-ACK and everything after it is routed by table 1; without it the reply is looked up unmarked, hits the
 * gate, and a WAN login (ssh to the node's WAN address) cannot be answered. Per network namespace.
 */
import { files, paths } from '@meshwan/os';

const TCP_FWMARK_ACCEPT = '/proc/sys/net/ipv4/tcp_fwmark_accept';

/** Sets it to 1 when it is not; returns the change made, or undefined. Throws the fs error. */
export function ensureFwmarkAccept(path = TCP_FWMARK_ACCEPT): string | undefined {
  if (files.readText(path).trim() === '1') return undefined;
  paths.writeInPlace(path, '1\n');
  return 'set net.ipv4.tcp_fwmark_accept = 1';
}
