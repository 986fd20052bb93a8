/**
 * Packet captures for leak tests: `tcpdump -w` on one interface of a namespace, stopped by PID, then read back
 * with `tcpdump -r` and a filter, or searched for a DNS name. Captures prove what reached the wire, independently of
 * anything meshwan reports about itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Namespace, run, stopProcess, type Teardowns, waitFor } from './netns.js';

export interface Capture {
  readonly ns: Namespace;
  readonly dev: string;
  readonly file: string;
  /** Stops tcpdump (SIGTERM by PID) after a short settle; every packet seen so far is then in the file. */
  stop(): Promise<void>;
  /** One line per captured packet matching the pcap-filter `filter` (all packets when empty), as tcpdump -nn prints them. */
  packets(filter?: string): string[];
  /** How many captured packets match `filter`. */
  count(filter?: string): number;
  /** How many captured DNS queries (port 53 or 54) ask for `name` (tcpdump prints the name for queries only). */
  countName(name: string): number;
}

/** Starts `tcpdump -i dev -w` in `ns`; resolves when tcpdump reports it is listening. */
export async function startCapture(t: Teardowns, ns: Namespace, dev: string, parent = tmpdir()): Promise<Capture> {
  const dir = mkdtempSync(join(parent, 'meshwan-pcap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, `${dev}.pcap`);
  // -Z root: tcpdump would otherwise drop to its own user, which cannot write into our 0700 temp dir.
  const child = ns.spawn(t, 'tcpdump', ['-i', dev, '-nn', '-U', '--immediate-mode', '-Z', 'root', '-s', '512', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  await waitFor(
    `tcpdump on ${dev} in ${ns.name}`,
    () => {
      if (child.exitCode !== null) throw new Error(`tcpdump exited with ${child.exitCode}: ${stderr.trim()}`);
      return stderr.includes('listening on');
    },
    60_000,
  );
  const packets = (filter = ''): string[] => {
    const args = ['-r', file, '-nn', ...(filter === '' ? [] : [filter])];
    return run('tcpdump', args)
      .split('\n')
      .filter((l) => l.trim() !== '');
  };
  return {
    ns,
    dev,
    file,
    stop: async () => {
      // --immediate-mode hands each packet over at once (without it, this kernel's TPACKET_V3 ring kept packets
      // that tcpdump counted as "received by filter" but never wrote); the settle lets the last ones through.
      await new Promise((r) => setTimeout(r, 100));
      await stopProcess(child);
    },
    packets,
    count: (filter) => packets(filter).length,
    countName: (name) => {
      const needle = name.toLowerCase().replace(/\.?$/, '.');
      return packets('port 53 or port 54').filter((l) => l.toLowerCase().includes(needle)).length;
    },
  };
}
