/**
 * meshwan-wan CMD [ARGS...]: runs CMD in the mesh-VPN group with lib-packetmark preloaded, so that its sockets
 * carry the WAN mark and its DNS is redirected to the WAN forwarder (Gluon's gluon-wan / gluon-wan-dns).
 * Node cannot exec(2) in place, so this is exec semantics by hand: the child inherits stdio, the signals a shell
 * would deliver to a foreground job are passed on, and the exit code (or the signal) is passed back.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { type NodeSettings, readSettings } from '@meshwan/site';
import { openConfig } from '@meshwan/uci';

const LIBPACKETMARK = process.env.MESHWAN_LIBPACKETMARK ?? '/usr/lib/libpacketmark.so';
const forwarded: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** LD_PRELOAD with libpacketmark first, keeping what the caller had preloaded. */
function preload(existing: string | undefined): string {
  const others = (existing ?? '').split(/[ :]/).filter((p) => p !== '' && p !== LIBPACKETMARK);
  return [LIBPACKETMARK, ...others].join(':');
}

function main(argv: readonly string[]): void {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stderr.write('usage: meshwan-wan CMD [ARGS...]\n');
    process.exitCode = command === undefined ? 2 : 0;
    return;
  }
  let site: NodeSettings;
  try {
    // The mark and group the node's uci holds (staged changes included), as every meshwan daemon reads them.
    site = readSettings(openConfig({ root: process.env.MESHWAN_ROOT ?? '/' }));
  } catch (err: unknown) {
    process.stderr.write(`meshwan-wan: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const env = {
    ...process.env,
    LD_PRELOAD: preload(process.env.LD_PRELOAD),
    // lib-packetmark parses it with strtoul(…, 0): hex is safe.
    LIBPACKETMARK_MARK: `0x${site.wan.mark.toString(16)}`,
  };
  let child: ReturnType<typeof spawn>;
  try {
    // setgid(2) to the group: the firewall's owner match (xt_owner --gid-owner) sees it, as with gluon-wan.
    child = spawn(command, args, { stdio: 'inherit', env, gid: site.meshVpn.gid });
  } catch (err: unknown) {
    process.stderr.write(`meshwan-wan: cannot run ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 126;
    return;
  }
  const handlers = forwarded.map((sig) => {
    const h = () => child.kill(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    // As a shell: 127 when the command is not found, 126 when it cannot be executed (EACCES, EPERM from setgid).
    process.stderr.write(`meshwan-wan: ${command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
    process.exitCode = err.code === 'ENOENT' ? 127 : 126;
  });
  child.on('exit', (code, signal) => {
    for (const [sig, h] of handlers) process.off(sig, h);
    if (signal) {
      // Die of the same signal, so the caller sees what a real exec would have shown.
      process.kill(process.pid, signal);
      // Should a handler someone else installed (a coverage hook) swallow it, exit as a shell reports a signal.
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 200);
      return;
    }
    process.exitCode = code ?? 1;
  });
}

main(process.argv.slice(2));
