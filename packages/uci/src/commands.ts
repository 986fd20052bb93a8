/**
 * The commands of cli.c (uci_cmd and friends), on a UciContext. Errors print as libuci's uci_perror does,
 * including its quirk of keeping the last parse error's details in a static buffer.
 */
import { files } from '@meshwan/os';
import { byteBuffer } from './bytes.js';
import { type Loaded, UciContext } from './context.js';
import { strtoulInt } from './delta.js';
import { UCI_ERRSTR, UciError, type UciErrorCode, UciParseError } from './errors.js';
import { formatChange, showOption, showSection, showValue, writeExport, writeShowPackage } from './format.js';
import { addListItem, addSection, deleteEntry, delListItem, renameEntry, reorderSection, scanInt, setValue } from './ops.js';
import { importUci } from './parser.js';
import { lookupPtr, parsePtr, type UciPtr } from './ptr.js';
import { ByteStream, LineReader, ParseFail } from './reader.js';
import { usage } from './usage.js';
import { ByteWriter } from './writer.js';

/** libuci error numbers (uci.h), which `uci add` returns as its exit code. */
const ERRNO: Readonly<Record<UciErrorCode, number>> = { MEM: 1, INVAL: 2, NOTFOUND: 3, IO: 4, PARSE: 5, DUPLICATE: 6, UNKNOWN: 7 };

type SectionCmd = 'get' | 'set' | 'add_list' | 'del_list' | 'delete' | 'rename' | 'revert' | 'reorder';
/** The commands that make one edit of ops.ts and save it (uci.c's uci_do_section_cmd). */
const commandEdits = { rename: renameEntry, set: setValue, add_list: addListItem, del_list: delListItem } as const;
type PackageCmd = 'show' | 'changes' | 'export' | 'commit';

const COMMANDS: Readonly<Record<string, SectionCmd | PackageCmd | 'batch' | 'import' | 'help' | 'add'>> = {
  batch: 'batch',
  show: 'show',
  changes: 'changes',
  export: 'export',
  commit: 'commit',
  get: 'get',
  set: 'set',
  ren: 'rename',
  rename: 'rename',
  revert: 'revert',
  reorder: 'reorder',
  del: 'delete',
  delete: 'delete',
  import: 'import',
  help: 'help',
  add: 'add',
  add_list: 'add_list',
  del_list: 'del_list',
};

/** What libuci's parse context holds when an error is printed (pctx: reason, line, byte). */
interface Pctx {
  /** The batch input's context, or a config file's kept after its parse error. */
  kind: 'batch' | 'file';
  reason: string | null;
  line: number;
  byte: number;
}

export class Cli {
  readonly ctx = new UciContext();
  input: ByteStream | null = null;
  delimiter = ' ';
  merge = false;
  quiet = false;
  noCommit = false;
  showExt = true;
  /** uci -S: parse errors are printed and skipped (libuci UCI_FLAG_PERROR). */
  perrorParse = false;
  private batch = false;
  private pctx: Pctx | null = null;
  /** libuci's static error_info buffer, which keeps the last parse error and gains a newline per message. */
  private errorInfo = '';
  private batchReader: LineReader | null = null;

  constructor(
    readonly appname: string,
    private readonly out: (fd: 1 | 2, bytes: Uint8Array) => void = (fd, bytes) => files.write(fd, bytes),
  ) {
    // Parsing a file frees libuci's current parse context (uci_cleanup), the batch input's included.
    this.ctx.onParseStart = () => {
      this.pctx = null;
    };
    this.ctx.onParseError = (e) => {
      if (this.perrorParse) this.write(2, `${UCI_ERRSTR.PARSE} (${e.reason}) at line ${e.line}, byte ${e.byte}\n`);
    };
  }

  write(fd: 1 | 2, text: string): void {
    if (text.length > 0) this.out(fd, byteBuffer(text));
  }

  /** Big outputs (show, export of a whole package) go through a byte buffer, not one huge string. */
  private writeWith(fill: (w: ByteWriter) => void): void {
    const w = new ByteWriter();
    fill(w);
    const bytes = w.bytes();
    if (bytes.length > 0) this.out(1, bytes);
  }

  error(text: string): void {
    if (!this.quiet) this.write(2, text);
  }

  /** uci_perror(ctx, appname) unless -q. */
  private perror(code: UciErrorCode): void {
    if (code === 'PARSE' && this.pctx) {
      this.errorInfo = ` (${this.pctx.reason ?? 'unknown'}) at line ${this.pctx.line}, byte ${this.pctx.byte}`.slice(0, 126);
    }
    this.errorInfo += '\n';
    if (this.quiet) return;
    this.write(2, `${this.appname}: ${UCI_ERRSTR[code]}${this.errorInfo}`);
  }

  private fail(err: unknown): UciErrorCode {
    if (err instanceof UciError) return err.code;
    throw err;
  }

  /** Run something that loads packages: a parse error leaves its context (and details) for perror. */
  private loading<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err: unknown) {
      if (err instanceof UciParseError) this.pctx = { kind: 'file', reason: err.reason, line: err.line, byte: err.byte };
      throw err;
    }
  }

  private lookup(tuple: string, op: string): { ptr: UciPtr; l: Loaded } {
    // The address is parsed before anything loads, so its error still sees the batch parse context.
    const ptr = parsePtr(tuple, op);
    return this.loading(() => {
      const l = this.ctx.load(ptr.package);
      lookupPtr(l.pkg, ptr, op);
      return { ptr, l };
    });
  }

  private unloadAll(): void {
    this.ctx.loaded.clear();
  }

  command(argv: string[]): number {
    const name = (argv[0] ?? '').toLowerCase();
    const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    switch (cmd) {
      case 'batch':
        if (this.batch) return 255;
        return this.runBatch();
      case 'get':
      case 'set':
      case 'add_list':
      case 'del_list':
      case 'delete':
      case 'rename':
      case 'revert':
      case 'reorder':
        return this.sectionCmd(cmd, argv);
      case 'show':
      case 'export':
      case 'commit':
      case 'changes':
        return this.packageCmds(cmd, argv);
      case 'import':
        return this.importCmd(argv);
      case 'add':
        return this.addCmd(argv);
      case 'help':
        this.write(2, usage(this.appname));
        return 0;
      default:
        return 255;
    }
  }

  private packageCmds(cmd: PackageCmd, argv: string[]): number {
    if (argv.length > 2) return 255;
    const tuple = argv[1];
    if (tuple !== undefined) return this.packageCmd(cmd, tuple);
    let configs: string[];
    try {
      configs = this.ctx.listConfigs();
    } catch (err: unknown) {
      this.perror(this.fail(err));
      return 1;
    }
    for (const c of configs) this.packageCmd(cmd, c);
    return 0;
  }

  private packageCmd(cmd: PackageCmd, tuple: string): number {
    let found: { ptr: UciPtr; l: Loaded };
    try {
      found = this.lookup(tuple, cmd);
    } catch (err: unknown) {
      this.perror(this.fail(err));
      return 1;
    }
    const { ptr, l } = found;
    try {
      switch (cmd) {
        case 'changes':
          this.write(1, l.pkg.savedDelta.map((d) => formatChange(l.pkg.name, d)).join(''));
          return 0;
        case 'commit':
          if (this.noCommit) return 0;
          try {
            this.loading(() => this.ctx.commit(l, false));
          } catch (err: unknown) {
            this.perror(this.fail(err));
            return 1;
          }
          return 0;
        case 'export':
          this.writeWith((w) => writeExport(w, l.pkg, { header: true, exportNames: this.ctx.exportNames }));
          return 0;
        case 'show':
          if (!ptr.complete) {
            this.perror('NOTFOUND');
            return 1;
          }
          if (ptr.o && ptr.s) this.write(1, showOption(l.pkg, ptr.s.name, ptr.o, this.delimiter));
          else if (ptr.s) this.write(1, showSection(l.pkg, ptr.s, ptr.s.name, this.delimiter));
          else this.writeWith((w) => writeShowPackage(w, l.pkg, this.showExt, this.delimiter));
          return 0;
      }
    } finally {
      this.ctx.unload(l.pkg.name);
    }
  }

  private addCmd(argv: string[]): number {
    if (argv.length !== 3) return 255;
    const [, pkgName = '', type = ''] = argv;
    try {
      const l = this.loading(() => this.ctx.load(pkgName));
      const s = addSection(l.pkg, type, l.pending);
      this.loading(() => this.ctx.save(l));
      this.write(1, `${s.name}\n`);
      return 0;
    } catch (err: unknown) {
      const code = this.fail(err);
      this.perror(code);
      return ERRNO[code];
    }
  }

  private sectionCmd(cmd: SectionCmd, argv: string[]): number {
    if (argv.length !== 2) return 255;
    let found: { ptr: UciPtr; l: Loaded };
    try {
      found = this.lookup(argv[1] ?? '', cmd);
    } catch (err: unknown) {
      this.perror(this.fail(err));
      return 1;
    }
    const { ptr, l } = found;
    if (ptr.value !== undefined && (cmd === 'get' || cmd === 'revert')) return 1;
    try {
      switch (cmd) {
        case 'get':
          if (!ptr.complete) {
            this.perror('NOTFOUND');
            return 1;
          }
          if (ptr.o) this.write(1, showValue(ptr.o, false, this.delimiter));
          else if (ptr.s) this.write(1, `${ptr.s.type}\n`);
          return 0;
        case 'revert':
          try {
            this.loading(() => this.ctx.revert(l, ptr.section, ptr.option));
          } catch (err: unknown) {
            this.fail(err);
          }
          return 0;
        case 'rename':
        case 'set':
        case 'add_list':
        case 'del_list':
          commandEdits[cmd](l.pkg, ptr, l.pending);
          break;
        case 'reorder':
          if (!ptr.s || ptr.value === undefined) {
            this.perror('NOTFOUND');
            return 1;
          }
          reorderSection(l.pkg, ptr.s, strtoulInt(ptr.value), l.pending);
          break;
        case 'delete':
          if (ptr.value !== undefined && ptr.value !== '' && scanInt(ptr.value) === null) return 1;
          deleteEntry(l.pkg, ptr, l.pending);
          break;
      }
      this.loading(() => this.ctx.save(l));
    } catch (err: unknown) {
      this.perror(this.fail(err));
      return 1;
    }
    return 0;
  }

  private importCmd(argv: string[]): number {
    if (argv.length > 2) return 255;
    const name = argv[1];
    if (name === undefined && this.merge) return 255;
    let target: Loaded | null = null;
    if (this.merge && name !== undefined) {
      try {
        target = this.loading(() => this.ctx.load(name));
      } catch (err: unknown) {
        this.fail(err);
        target = null;
      }
    }
    // uci_import parses the command's own input: in a batch, its parse context (line count, buffer) is the one
    // the batch goes on reading with after an error.
    const reader = new LineReader(this.input ?? new ByteStream(new Uint8Array(0)));
    this.pctx = null;
    try {
      this.loading(() => {
        const pkgs = importUci(reader, {
          package: name,
          single: name !== undefined,
          strict: this.ctx.strict,
          onError: this.ctx.onParseError,
          merge: target ? { pkg: target.pkg, rec: target.pending } : undefined,
        });
        if (target) {
          this.ctx.save(target);
          return;
        }
        for (const pkg of pkgs) {
          if (this.ctx.loaded.has(pkg.name)) throw new UciError('DUPLICATE', 'import', pkg.name);
          const l: Loaded = { pkg, path: null, hasDelta: false, usesConf2: false, pending: [] };
          this.ctx.loaded.set(pkg.name, l);
        }
        for (const l of this.ctx.loaded.values()) this.ctx.commit(l, true);
      });
    } catch (err: unknown) {
      if (err instanceof UciParseError) {
        this.batchReader = reader;
        this.pctx = { kind: 'batch', reason: err.reason, line: err.line, byte: err.byte };
      }
      this.perror(this.fail(err));
      return 1;
    }
    return 0;
  }

  /** Read one batch command line (uci_parse_argument × up to 4). Null at a parse error (already printed). */
  private batchArgs(): string[] | 'too many' | null {
    const input = this.input ?? new ByteStream(new Uint8Array(0));
    if (!this.batchReader || this.pctx?.kind !== 'batch' || this.batchReader.stream !== input) {
      this.batchReader = new LineReader(input);
      this.pctx = { kind: 'batch', reason: null, line: 0, byte: 0 };
    }
    const r = this.batchReader;
    const sync = () => {
      this.pctx = { kind: 'batch', reason: r.reason, line: r.line, byte: r.byte };
    };
    const args: string[] = [];
    r.pos = 0;
    try {
      r.getln(0);
      for (let i = 0; i <= 4; i++) {
        if (i === 4) {
          sync();
          return 'too many';
        }
        const v = r.nextArg(false);
        const arg = r.str(v);
        if (arg === '') break;
        args.push(arg);
      }
    } catch (err: unknown) {
      if (!(err instanceof ParseFail)) throw err;
      sync();
      this.perror('PARSE');
      return null;
    }
    sync();
    return args;
  }

  private runBatch(): number {
    this.batch = true;
    const input = this.input ?? new ByteStream(new Uint8Array(0));
    while (!input.eof) {
      const args = this.batchArgs();
      let ret = 0;
      if (args === 'too many') {
        this.error('Too many arguments\n');
        ret = 1;
      } else if (args !== null && args.length > 0) {
        if (args[0]?.toLowerCase() === 'exit') return 0;
        // Packages loaded by a command drop the batch parse context (libuci uci_import calls uci_cleanup).
        ret = this.command(args);
      }
      if (ret === 255) this.error('Unknown command\n');
      this.unloadAll();
    }
    this.batch = false;
    return 0;
  }
}
