/**
 * Name checks, as libuci's util.c uci_validate_str/uci_validate_text (C locale isalnum, bytes not chars).
 * Inputs are byte strings (see bytes.ts).
 */

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** libuci uci_validate_str: names allow [A-Za-z0-9_]; packages also '-'; types (and packages) any byte 33..126. */
export function validateStr(str: string, name: boolean, pkg: boolean): boolean {
  if (str.length === 0) return false;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (isAlnum(c) || c === 95) continue;
    if (c === 45 && pkg) continue;
    if (name || c < 33 || c > 126) return false;
  }
  return true;
}

/** uci_validate_package: a config (package) name. */
export function validatePackage(str: string): boolean {
  return validateStr(str, false, true);
}

/** uci_validate_type: a section type. */
export function validateType(str: string): boolean {
  return validateStr(str, false, false);
}

/** uci_validate_name: a section or option name (shell-safe: [A-Za-z0-9_]+). */
export function validateName(str: string): boolean {
  return validateStr(str, true, false);
}

/** uci_validate_text: a value may hold any byte but control characters other than tab, CR and LF. */
export function validateText(str: string): boolean {
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}
