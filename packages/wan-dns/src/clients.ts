/** Which clients may ask: loopback only unless --allow-remote (the forwarder serves the node itself, gluon-wan-dnsmasq binds 127.0.0.1/::1). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
