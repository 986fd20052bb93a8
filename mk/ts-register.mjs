// `node --import ./mk/ts-register.mjs FILE.ts`: runs a TypeScript test file directly, with esbuild stripping the
// types, for make check's fast tier. tap's runner costs 2-4 CPU seconds a file (its process and ts-node); this costs
// about a tenth of that. It transpiles only: types are make typecheck's job.
import { register } from 'node:module';

register(new URL('./ts-hooks.mjs', import.meta.url));
