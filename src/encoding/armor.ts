import { DimeError } from '../errors/index.js';
import { fromBase64, toBase64 } from './base64.js';
import { readU16 } from './bytes.js';
import { crc24 } from './crc24.js';
import { LABEL_TYPES, PROTECTED_KEY_LABEL } from './object-types.js';

/**
 * The armored (PEM-like) form of objects.md §4: BEGIN line, base64 body wrapped at 64 columns,
 * `=` + base64 of the CRC-24 of the binary, END line. We write exactly five dashes and a final LF.
 */
export function armor(label: string, binary: Uint8Array): string {
  const b64 = toBase64(binary);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  const c = crc24(binary);
  const crc = toBase64(Uint8Array.of((c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}=${crc}\n-----END ${label}-----\n`;
}

export interface Dearmored {
  label: string;
  binary: Uint8Array;
}

const BEGIN = /^-{5,}BEGIN ([A-Z0-9 ]+?)-{5,}$/;
const END = /^-{5,}END ([A-Z0-9 ]+?)-{5,}$/;

/** True when the text holds an armor BEGIN line (used to auto-detect input forms). */
export function looksArmored(text: string): boolean {
  return /-{5,}BEGIN [A-Z0-9 ]+-{5,}/.test(text);
}

/**
 * Reads the first armored block of `text`. Text before BEGIN and after END is ignored, CR/LF both
 * work, the final newline is optional. The checksum line is mandatory and must match.
 */
export function dearmor(text: string): Dearmored {
  const lines = text.split('\n').map((l) => l.trim());
  const bi = lines.findIndex((l) => BEGIN.test(l));
  if (bi < 0) throw new DimeError('BAD_ARMOR', 'no BEGIN line');
  const label = BEGIN.exec(lines[bi]!)![1]!;
  if (!(label in LABEL_TYPES)) throw new DimeError('BAD_ARMOR', `unknown armor label "${label}"`, { label });
  let ei = -1;
  for (let i = bi + 1; i < lines.length; i++) {
    if (END.test(lines[i]!) || lines[i]!.startsWith('-----')) {
      ei = i;
      break;
    }
  }
  if (ei < 0) throw new DimeError('BAD_ARMOR', 'no END line', { label });
  const endMatch = END.exec(lines[ei]!);
  if (!endMatch || endMatch[1] !== label) {
    throw new DimeError('BAD_ARMOR', 'END label does not match BEGIN label', { label, end: lines[ei] });
  }
  const body = lines.slice(bi + 1, ei).filter((l) => l.length > 0);
  const crcLine = body.pop();
  if (crcLine === undefined || !/^=[A-Za-z0-9+/]{4}$/.test(crcLine)) {
    throw new DimeError('BAD_ARMOR', 'missing or malformed checksum line', { label });
  }
  const b64 = body.join('').replace(/\s+/g, '');
  let binary: Uint8Array;
  let crcBytes: Uint8Array;
  try {
    binary = fromBase64(b64, true);
    crcBytes = fromBase64(crcLine.slice(1), true);
  } catch {
    throw new DimeError('BAD_ARMOR', 'invalid base64 in armor body', { label });
  }
  const want = ((crcBytes[0]! << 16) | (crcBytes[1]! << 8) | crcBytes[2]!) >>> 0;
  if (crc24(binary) !== want) throw new DimeError('BAD_ARMOR', 'CRC-24 checksum does not match', { label });
  return { label, binary };
}

/**
 * Checks that an armor label may carry the binary's object type (objects.md §4: the binary type
 * decides; SSRs are also accepted under libdime's org-signet label).
 */
export function checkLabelType(label: string, binary: Uint8Array): void {
  if (label === PROTECTED_KEY_LABEL) return;
  const allowed = LABEL_TYPES[label] ?? [];
  if (binary.length < 2) return; // the object parser reports TRUNCATED
  const type = readU16(binary, 0);
  if (!allowed.includes(type)) {
    throw new DimeError('BAD_MAGIC', `armor label "${label}" does not match object type ${type}`, {
      label,
      type,
    });
  }
}
