/** Runs a Daemon in the test process on loopback, with a logger that keeps its lines. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '@meshwan/site';
import type { Teardowns } from '../../../../test/lib/netns.js';
import { Daemon, type DaemonOptions } from '../../src/daemon.js';
import { StartError } from '../../src/errors.js';
import { stderrLogger } from '../../src/log.js';
import { deadPort } from './client.js';

export interface TestDaemon {
  daemon: Daemon;
  port: number;
  lines: string[];
  dir: string;
}

export const v4 = (address: string, port: number): Endpoint => ({ address, port, family: 4 });

export async function startDaemon(t: Teardowns, overrides: Partial<DaemonOptions> = {}): Promise<TestDaemon> {
  // A port free for UDP may be taken for TCP (or by a parallel test): try a few.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(t, overrides);
    } catch (err: unknown) {
      if (attempt >= 5 || !(err instanceof StartError) || err.reason !== 'EADDRINUSE') throw err;
    }
  }
}

async function startOnce(t: Teardowns, overrides: Partial<DaemonOptions>): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-test-'));
  const port = await deadPort();
  const lines: string[] = [];
  const daemon = new Daemon({
    listen: [v4('127.0.0.1', port), { address: '::1', port, family: 6 }],
    sources: { servers: [], root: dir, resolvFile: join(dir, 'resolv.conf') },
    mark: 0x1,
    cacheSize: 0,
    allowRemote: false,
    poolSize: 8,
    maxInflight: 256,
    deadlineMs: 2500,
    tcp: { maxConnections: 8, idleTimeoutMs: 2000, maxPipelined: 4 },
    controlPath: join(dir, 'control.sock'),
    vpnGid: 800,
    log: stderrLogger('wan-dns', (l) => lines.push(l)),
    ...overrides,
  });
  await daemon.start();
  t.teardown(() => daemon.close());
  return { daemon, port, lines, dir };
}
