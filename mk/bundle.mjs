// One bundler for every command: esbuild, one file per entry, for the engine that will run it.
//   engine 'node'     ESM for Node (the development side): node:* built in, native addons next to the bundle.
//   engine 'quickjs'  ESM for meshwan-js: @meshwan/os resolves its `#engine` import to src/quickjs (the `quickjs`
//                     condition); QuickJS's `std`, `os` and meshwan:netio are the only externals, so any node:*
//                     import left in a command fails the bundle here, not on a router.
import { build } from 'esbuild';

const quickjsModules = ['std', 'os', 'meshwan:netio'];

/** Bundles `entry` into `outfile` for `engine`; rejects with esbuild's errors (file:line) when it cannot. */
export async function bundleFor(entry, outfile, engine, { minify = false } = {}) {
  if (engine !== 'node' && engine !== 'quickjs') throw new Error(`bundle: engine ${engine}: not node or quickjs`);
  const common = {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    logLevel: 'error',
    legalComments: 'none',
    minify,
  };
  if (engine === 'node') {
    return build({
      ...common,
      platform: 'node',
      target: 'node20',
      // ESM bundles of CommonJS dependencies (dns-packet) need a real `require`.
      banner: {
        js: "import { createRequire as __meshwanCreateRequire } from 'node:module';\nconst require = __meshwanCreateRequire(import.meta.url);",
      },
      external: ['*.node'],
    });
  }
  return build({
    ...common,
    platform: 'neutral',
    // What QuickJS 2025-04-26 runs (OpenWrt's 2025-09-13 runs more; nothing newer is emitted).
    target: 'es2023',
    conditions: ['quickjs'],
    mainFields: ['module', 'main'],
    external: quickjsModules,
  });
}
