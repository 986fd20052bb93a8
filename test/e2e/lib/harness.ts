/**
 * What every e2e scenario shares: the firmware staged once per test file (a part missing from it fails the
 * scenario, never skips it), and a running node whose bring-up failures are test failures. Scenarios then drive test/lib/topology.ts and check with independent witnesses
 * (dig answers naming their server, tcpdump captures, the nft leak counter, ip and nft listings).
 */
import { rmSync } from 'node:fs';
import type { Teardowns } from '../../lib/netns.js';
import type { Capture } from '../../lib/topology.js';
import { type Firmware, stageFirmware } from '../../sim/firmware.js';
import { type MeshwanNode, type NodeOptions, type StepResult, startNode } from '../../sim/node.js';

/** The parts of tap's `t` the harness uses. */
export interface TapLike extends Teardowns {
  fail(message: string): unknown;
  comment(...message: unknown[]): unknown;
}

let staged: { ok: boolean; output: string; firmware: Firmware } | undefined;

/** The firmware, staged on first use (only as root: staging is harmless, but nothing here runs without root). */
function firmware(): { ok: boolean; output: string; firmware: Firmware } {
  staged ??= stageFirmware();
  return staged;
}

/** Starts the node; each failed bring-up step is a test failure, and then this throws. */
export async function testNode(t: TapLike, options: Omit<NodeOptions, 'firmware'> = {}): Promise<MeshwanNode> {
  const fw = firmware();
  if (!fw.ok) throw new Error(`staging failed: ${fw.output.trim()}`);
  const failed: StepResult[] = [];
  const node = await startNode(
    t,
    (r) => {
      t.comment(`${r.outcome} ${r.name}${r.detail === '' ? '' : `: ${r.detail}`}`);
      if (r.outcome === 'FAIL') failed.push(r);
    },
    { ...options, firmware: fw.firmware },
  );
  for (const r of failed) t.fail(`${r.name}: ${r.detail}`);
  if (node === undefined || failed.length > 0 || !node.complete) throw new Error('the node did not come up');
  return node;
}

/** Sum of captured queries for `names` (each step uses its own probe names). */
export function queriesFor(capture: Capture, names: readonly string[]): number {
  return names.reduce((n, name) => n + capture.countName(name), 0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes the staged firmware (register with the file's top-level `t.teardown`). */
export function removeFirmware(): void {
  if (staged) rmSync(staged.firmware.root, { recursive: true, force: true });
  if (staged) rmSync(`${staged.firmware.root}.sim`, { recursive: true, force: true });
}
