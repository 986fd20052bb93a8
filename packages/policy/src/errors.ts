/** Errors of @meshwan/policy. Each carries what was asked and where, as fields. */
import { OptionError } from '@meshwan/uci';

/**
 * Thrown (or collected) when a network config section cannot be turned into kernel state: a bad address, an
 * unknown table or action. netifd silently skips such a section; policy skips it too, but reports it.
 */
export class ConfigError extends OptionError {
  override readonly name = 'ConfigError';
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
