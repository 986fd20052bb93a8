/**
 * The files conformance checks: the same calls on every engine under a temp dir `root`, returning what was seen.
 * Run by the fixture program (test/fixtures/files.ts, bundled per engine) and in-process against src/node.
 */
import type { Files } from '../../src/files-api.js';

export function exerciseFiles(files: Files, root: string): Record<string, unknown> {
  const seen: Record<string, unknown> = {};

  function failure(fn: () => unknown): unknown {
    try {
      fn();
      return 'no error';
    } catch (err: unknown) {
      // By name, not instanceof: a bundle and an in-process test hold different copies of the class.
      if (!(err instanceof Error && err.name === 'OsError' && 'code' in err && 'syscall' in err && 'path' in err)) throw err;
      if (typeof err.path !== 'string' && err.path !== undefined) throw err;
      return { code: err.code, syscall: err.syscall, path: err.path?.replace(root, 'ROOT').replace(/tmp-[0-9a-f]{6}$/, 'tmp-XXXXXX') };
    }
  }

  files.mkdirp(`${root}/a/b/c`, 0o755);
  files.mkdirp(`${root}/a/b`);
  files.writeAtomic(`${root}/a/b/c/text`, 'grüße\nline 2\n', { mode: 0o600 });
  files.writeAtomic(`${root}/a/bytes`, new Uint8Array([0, 255, 10, 0xc3]));
  files.writeAtomic(`${root}/new/dir/file`, 'made', { mkdir: true, mode: 0o640 });
  seen.text = files.readText(`${root}/a/b/c/text`);
  seen.bytes = [...files.readBytes(`${root}/a/bytes`)];
  seen.modes = [`${root}/a/b/c/text`, `${root}/a/bytes`, `${root}/new/dir/file`, `${root}/a/b/c`].map((p) =>
    (files.stat(p).mode & 0o777).toString(8),
  );
  seen.types = [`${root}/a/bytes`, `${root}/a`, '/dev/null'].map((p) => files.stat(p).type);
  seen.size = files.stat(`${root}/a/b/c/text`).size;
  seen.exists = [files.exists(`${root}/a`), files.exists(`${root}/nothing`)];
  seen.list = files.list(`${root}/a`).sort();
  files.rename(`${root}/a/bytes`, `${root}/a/moved`);
  seen.afterRename = files.list(`${root}/a`).sort();
  files.remove(`${root}/a/moved`);
  files.remove(`${root}/new/dir/file`);
  files.remove(`${root}/new/dir`);
  seen.afterRemove = [files.list(`${root}/a`).sort(), files.list(`${root}/new`)];
  // No temp file is left beside a written one.
  seen.noTemp = files.list(`${root}/a/b/c`);

  // A locked read-modify-write on a descriptor, as uci saves a delta.
  const fd = files.open(`${root}/delta`, 'create', 0o600);
  files.lock(fd, 'exclusive');
  files.writeAt(fd, new Uint8Array([1, 2, 3]), 0);
  files.writeAt(fd, new Uint8Array([4, 5]), files.fstat(fd).size);
  seen.readAll = [...files.readAll(fd)];
  files.truncate(fd, 1);
  seen.truncated = [...files.readAll(fd)];
  seen.sameFile = files.fstat(fd).ino === files.stat(`${root}/delta`).ino && files.fstat(fd).dev === files.stat(`${root}/delta`).dev;
  files.lock(fd, 'unlock');
  files.lock(fd, 'shared');
  files.close(fd);
  seen.deltaMode = (files.stat(`${root}/delta`).mode & 0o777).toString(8);

  // Text written as UTF-8 by the engine, appended at the descriptor's position (a CLI's chunks of stdout).
  const out = files.open(`${root}/text-out`, 'create', 0o600);
  files.writeText(out, 'grüße ');
  files.writeText(out, '€ \u{1f600}\n');
  files.writeText(out, '');
  files.close(out);
  seen.writeText = files.readText(`${root}/text-out`);

  seen.errors = {
    readMissing: failure(() => files.readBytes(`${root}/nothing`)),
    readDir: failure(() => files.readText(`${root}/a`)),
    statMissing: failure(() => files.stat(`${root}/nothing/deeper`)),
    listFile: failure(() => files.list(`${root}/delta`)),
    removeFull: failure(() => files.remove(`${root}/a`)),
    mkdirOverFile: failure(() => files.mkdirp(`${root}/delta/x`)),
    renameMissing: failure(() => files.rename(`${root}/nothing`, `${root}/x`)),
    openMissing: failure(() => files.open(`${root}/nothing`, 'write')),
    writeIntoMissingDir: failure(() => files.writeAtomic(`${root}/nothing/file`, 'x')),
    lockClosed: failure(() => files.lock(fd, 'shared')),
    writeTextClosed: failure(() => files.writeText(out, 'x')),
  };
  return seen;
}
