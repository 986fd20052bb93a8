/**
 * meshwan-wan CMD [ARGS...]: runs CMD in the mesh-VPN group with lib-packetmark preloaded, so that its sockets
 * carry the WAN mark and its DNS is redirected to the WAN forwarder (Gluon's gluon-wan / gluon-wan-dns). It
 * becomes CMD (the seam's execInPlace: setgid, then execvp; on Node a child it waits for), so it returns only a
 * usage or settings error, or CMD's failure to start: 127 when CMD is not found, 126 when it cannot run, as a shell.
 */
import { proc, programs } from '@meshwan/os';
import { type NodeSettings, readSettings } from '@meshwan/site';
import { openConfig } from '@meshwan/uci';

/** LD_PRELOAD with libpacketmark first, keeping what the caller had preloaded. */
function preload(libpacketmark: string, existing: string | undefined): string {
  const others = (existing ?? '').split(/[ :]/).filter((p) => p !== '' && p !== libpacketmark);
  return [libpacketmark, ...others].join(':');
}

export async function runWanCli(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    proc.writeStderr('usage: meshwan-wan CMD [ARGS...]\n');
    return command === undefined ? 2 : 0;
  }
  let site: NodeSettings;
  try {
    // The mark and group the node's uci holds (staged changes included), as every meshwan daemon reads them.
    site = readSettings(openConfig({ root: proc.env('MESHWAN_ROOT') ?? '/' }));
  } catch (err: unknown) {
    proc.writeStderr(`meshwan-wan: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const libpacketmark = proc.env('MESHWAN_LIBPACKETMARK') ?? '/usr/lib/libpacketmark.so';
  const env = {
    ...proc.environment(),
    LD_PRELOAD: preload(libpacketmark, proc.env('LD_PRELOAD')),
    // lib-packetmark parses it with strtoul(…, 0): hex is safe.
    LIBPACKETMARK_MARK: `0x${site.wan.mark.toString(16)}`,
  };
  // setgid(2) to the group: the firewall's owner match (xt_owner --gid-owner) sees it, as with gluon-wan.
  const err = await programs.execInPlace([command, ...args], { env, gid: site.meshVpn.gid });
  // As a shell: 127 when the command is not found, 126 when it cannot be executed (EACCES, EPERM from setgid).
  proc.writeStderr(`meshwan-wan: ${command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
  return err.code === 'ENOENT' ? 127 : 126;
}
