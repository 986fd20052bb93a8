/** Errors of @meshwan/policy. Each carries what was asked and where, as fields. */

/**
 * Thrown (or collected) when a network config section cannot be turned into kernel state: a bad address, an
 * unknown table or action. netifd silently skips such a section; policy skips it too, but reports it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The uci file, e.g. /etc/config/network. */
    readonly file: string,
    /** The section name (or @type[index] for an anonymous one). */
    readonly section: string,
    /** The option at fault; empty when it is the section as a whole. */
    readonly option: string,
    readonly reason: string,
  ) {
    super(`${file}: ${section}${option ? `.${option}` : ''}: ${reason}`);
  }
}

/** Thrown when one step of a plan fails in the kernel or the firewall; the cause is the netlink or firewall error. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    /** What was attempted, e.g. addRule, deleteRoute, firewall. */
    readonly op: string,
    /** The object, as `ip` would print it. */
    readonly object: string,
    override readonly cause: unknown,
  ) {
    super(`${op} ${object}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Thrown when a command line cannot be used; the CLI prints the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
