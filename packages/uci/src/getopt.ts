/**
 * GNU getopt(3) as uci's main() uses it (optstring "c:C:d:f:LmnNp:P:qsSt:X"): options may follow the command
 * (arguments are permuted), clusters like `-qS`, `-cDIR` or `-c DIR`, and `--` ends options. Errors are
 * glibc's messages.
 */

export interface GetoptResult {
  opts: { opt: string; arg: string | undefined }[];
  args: string[];
  /** glibc's message for the first bad option, e.g. "invalid option -- 'z'"; the option is reported as '?'. */
  error: string | null;
}

export function getopt(argv: readonly string[], optstring: string): GetoptResult {
  const opts: GetoptResult['opts'] = [];
  const args: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i] ?? '';
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      args.push(a);
      i++;
      continue;
    }
    let j = 1;
    i++;
    while (j < a.length) {
      const c = a[j] ?? '';
      const k = optstring.indexOf(c);
      if (k < 0 || c === ':') {
        opts.push({ opt: '?', arg: undefined });
        return { opts, args, error: `invalid option -- '${c}'` };
      }
      if (optstring[k + 1] === ':') {
        if (j + 1 < a.length) {
          opts.push({ opt: c, arg: a.slice(j + 1) });
        } else if (i < argv.length) {
          opts.push({ opt: c, arg: argv[i] });
          i++;
        } else {
          opts.push({ opt: '?', arg: undefined });
          return { opts, args, error: `option requires an argument -- '${c}'` };
        }
        break;
      }
      opts.push({ opt: c, arg: undefined });
      j++;
    }
  }
  return { opts, args, error: null };
}
