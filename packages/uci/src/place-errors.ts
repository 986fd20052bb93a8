/**
 * Bases of the typed errors every package throws about a place in its input: an option of a uci config, a line of
 * a file, or one named thing (a flag, a state file, a listener). Each package subclasses them under its own name
 * ("thrown when…" there), so callers test the class and read the place from fields, never from the message.
 */

/** Base of the errors about a uci option: `file: section.option: reason` (`option` empty: the whole section). */
export class OptionError extends Error {
  override readonly name: string = 'OptionError';
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

/** Base of the errors about a line of a file: `file:line: field: reason` (line 0 or field '': not about one). */
export class LineError extends Error {
  override readonly name: string = 'LineError';
  constructor(
    readonly file: string,
    /** 1-based; 0 when the problem is the file as a whole (e.g. unreadable) or a flag. */
    readonly line: number,
    /** The key, option or keyword concerned (`wan.mark`, `nameserver`); empty when not about one. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${reason}`);
  }
}

/** Base of the errors about one named thing, a flag, a file or a listener: `where: reason`. */
export class PlaceError extends Error {
  override readonly name: string = 'PlaceError';
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where}: ${reason}`);
  }
}
