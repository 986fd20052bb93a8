/**
 * The `uci` command: OpenWrt's cli.c, same flags, output bytes and exit codes. Arguments become byte strings
 * (bytes.ts); output is written synchronously, in order, to fds 1 and 2.
 */
import { files, OsError } from '@meshwan/os';
import { toBytes } from './bytes.js';
import { Cli } from './commands.js';
import { UciError } from './errors.js';
import { getopt } from './getopt.js';
import { ByteStream } from './reader.js';
import { usage } from './usage.js';

export { usage };

const APPNAME = 'uci';

/** An input stream over a file descriptor, read as needed (blocking). */
export function fdStream(fd: number): ByteStream {
  const chunk = new Uint8Array(65536);
  return new ByteStream(new Uint8Array(0), () => {
    const n = files.read(fd, chunk);
    return n === 0 ? null : chunk.slice(0, n);
  });
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
};

/** Run `uci` with these arguments (without argv[0]); returns the exit code. */
export interface UciIo {
  /** Input for batch/import: a file descriptor (default 0) or a stream. */
  stdin?: number | ByteStream;
  /** Where output goes (default: synchronous writes to fd 1 and 2). */
  write?: (fd: 1 | 2, bytes: Uint8Array) => void;
}

export function runUci(argv: readonly string[], io: UciIo = {}): number {
  const cli = new Cli(APPNAME, io.write);
  let inputPath: string | null = null;
  const g = getopt(argv, 'c:C:d:f:LmnNp:P:qsSt:X');
  for (const { opt, arg = '' } of g.opts) {
    switch (opt) {
      case 'c':
        cli.ctx.confdir = arg;
        break;
      case 'C':
        cli.ctx.conf2dir = arg === '' ? null : arg;
        break;
      case 'd':
        cli.delimiter = toBytes(arg);
        break;
      case 'f':
        if (inputPath !== null) {
          cli.error('Too many input files.\n');
          return 1;
        }
        try {
          cli.input = fdStream(files.open(arg, 'read'));
          inputPath = arg;
        } catch (err: unknown) {
          if (!(err instanceof OsError)) throw err;
          const code = err.code;
          cli.error(`uci: ${ERRNO_TEXT[code] ?? code}`);
          return 1;
        }
        break;
      case 'm':
        cli.merge = true;
        break;
      case 's':
      case 'S':
        // -S: not strict, and parse errors are printed (uci.c's UCI_FLAG_PERROR)
        cli.ctx.strict = opt === 's';
        if (opt === 'S') cli.perrorParse = true;
        break;
      case 'n':
      case 'N':
        cli.ctx.exportNames = opt === 'n';
        break;
      case 'p':
        try {
          cli.ctx.addDeltaPath(arg);
        } catch (err: unknown) {
          if (!(err instanceof UciError)) throw err;
        }
        break;
      case 'P':
        cli.ctx.setSavedir(arg);
        cli.noCommit = true;
        break;
      case 'q':
        cli.quiet = true;
        break;
      case 't':
        cli.ctx.setSavedir(arg);
        break;
      case 'X':
        cli.showExt = false;
        break;
      default:
        if (opt === '?' && g.error) cli.write(2, `${APPNAME}: ${g.error}\n`);
        cli.write(2, usage(APPNAME));
        return 0;
    }
  }
  if (!cli.input) cli.input = io.stdin instanceof ByteStream ? io.stdin : fdStream(io.stdin ?? 0);
  if (g.args.length < 1) {
    cli.write(2, usage(APPNAME));
    return 0;
  }
  const ret = cli.command(g.args.map(toBytes));
  if (ret === 255) cli.write(2, usage(APPNAME));
  return ret;
}
