/** meshwan-netlink command line (filled in with the route cache and monitor). */
export function runNetlinkCli(_args: readonly string[]): number {
  process.stderr.write('meshwan-netlink: not yet implemented\n');
  return 2;
}
