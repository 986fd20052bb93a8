/**
 * A package CLI's entry (`runNetlinkCli`, `runFirewallCli`: args and an io with out and err) run in-process with
 * an io that keeps what it printed, so a test asserts on the exit code and the text together.
 */

/** What a CLI entry writes to: stdout and stderr text. */
export interface TextIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `entry(args, io)` and returns its exit code with everything it wrote to out and err. */
export async function runCli(entry: (args: readonly string[], io: TextIo) => Promise<number>, args: readonly string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await entry(args, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}
