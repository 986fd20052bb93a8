/** Errors of @meshwan/site. Each carries where it happened as fields, not only in its message. */
import { LineError } from '@meshwan/uci';

/**
 * Thrown when a site file cannot be used: a syntax error, an unknown section or key, a value of the wrong
 * type or out of range. `line` is 1-based; 0 when the problem is the file as a whole (e.g. unreadable); `field` is
 * the dotted key, e.g. `wan.mark`.
 */
export class SiteError extends LineError {
  override readonly name = 'SiteError';
}

/** Thrown when a site file has several problems: every one is kept, none is merged away. */
export class SiteErrors extends Error {
  override readonly name = 'SiteErrors';
  constructor(readonly errors: readonly SiteError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/**
 * Thrown when a value the daemons read from uci at run time is unusable: `file` is the config file
 * (ROOT/etc/config/PKG), `option` the uci name (`wan6_lookup.mark`). Staged changes count (libuci's view).
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(
    readonly file: string,
    readonly option: string,
    readonly reason: string,
  ) {
    super(`${file}: ${option}: ${reason}`);
  }
}
