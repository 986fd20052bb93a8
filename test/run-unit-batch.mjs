// make check's tier: runs several of one package's test files in this one process (started by run-suites.mjs
// with mk/ts-register.mjs), one after the other on tap's one root test, so the tier pays tap's and the loader's
// start-up once a batch instead of once a file (about a second of CPU each). Each file's tests are tap subtests
// of that root, so the last summary line counts them all; a file that throws while loading fails the batch.
// `# file: PATH` lines say where each file's output begins.
import { pathToFileURL } from 'node:url';

for (const file of process.argv.slice(2)) {
  console.log(`# file: ${file}`);
  await import(pathToFileURL(file).href);
}
