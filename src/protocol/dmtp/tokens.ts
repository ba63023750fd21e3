/**
 * DMTP argument tokens (dmtp.md §3): `<v>` (angle), `[v]` (square), `NAME=<v>`, `NAME=[v]`,
 * `NAME=v` (named) and bare words, separated by one or more spaces.
 */

export type DmtpValue =
  | { kind: 'angle'; value: string }
  | { kind: 'square'; value: string }
  | { kind: 'plain'; value: string };

export type DmtpToken = DmtpValue | { kind: 'named'; name: string; arg: DmtpValue };

const NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

function value(text: string): DmtpValue | null {
  if (text.startsWith('<')) {
    if (text.length < 2 || !text.endsWith('>')) return null;
    const v = text.slice(1, -1);
    return /[<>[\]]/.test(v) ? null : { kind: 'angle', value: v };
  }
  if (text.startsWith('[')) {
    if (text.length < 2 || !text.endsWith(']')) return null;
    const v = text.slice(1, -1);
    return /[<>[\]]/.test(v) ? null : { kind: 'square', value: v };
  }
  if (text.length === 0 || /[<>[\]]/.test(text)) return null;
  return { kind: 'plain', value: text };
}

/** One token; null if it is malformed (unbalanced brackets, empty value, bad name). */
export function parseToken(text: string): DmtpToken | null {
  const eq = text.indexOf('=');
  if (eq > 0 && !text.startsWith('<') && !text.startsWith('[')) {
    const name = text.slice(0, eq);
    if (!NAME.test(name)) return null;
    const arg = value(text.slice(eq + 1));
    return arg ? { kind: 'named', name: name.toUpperCase(), arg } : null;
  }
  return value(text);
}

/** Splits an argument string on runs of spaces. */
export function splitArgs(args: string): string[] {
  return args.split(' ').filter((t) => t.length > 0);
}
