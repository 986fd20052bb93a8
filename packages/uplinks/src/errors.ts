/** Errors of @meshwan/uplinks. Each carries where it happened as fields, not only in its message. */
import { OptionError, PlaceError } from '@meshwan/uci';

/**
 * Thrown when /etc/config/meshwan-uplinks cannot be used: an option of the wrong type or out of range, a missing
 * device, a member naming no interface. `section` and `option` name the uci place (`meshwan-uplinks.wan6.weight`).
 */
export class UplinksConfigError extends OptionError {
  override readonly name = 'UplinksConfigError';
}

/**
 * Thrown when the last-good state file exists but cannot be used (not JSON, wrong shape) or cannot be written.
 * A missing file is not an error: there is simply nothing to restore.
 */
export class StateFileError extends PlaceError {
  override readonly name = 'StateFileError';
}

/** Thrown when a probe cannot be started at all (no ping binary, bad argument); a lost reply is a result, not this. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    readonly uplink: string,
    readonly command: readonly string[],
    readonly reason: string,
  ) {
    super(`probe ${uplink}: ${command.join(' ')}: ${reason}`);
  }
}
