/**
 * SMTP DATA content decoder (RFC 5321 §4.1.1.4, §4.5.2), smuggling-safe: the message ends only at
 * `CRLF . CRLF` (or `. CRLF` as the very first line). A bare LF or a CR not followed by LF is a
 * violation (as Postfix with `smtpd_forbid_bare_newline = yes`): from then on nothing is delivered
 * and the decoder only scans, without buffering, for the real end so that none of the message can
 * be taken for commands (`\n.\n`, `\r.\r`, `\n.\r\n`, `\r\n.\n`, `\r\n.\r` never end a message).
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export type DataViolation = 'bare-lf' | 'bare-cr';

export interface DotDecodeResult {
  /** Unstuffed content, in order (views into the input chunk; may be empty). */
  pieces: Uint8Array[];
  /** Bytes of the chunk consumed: the whole chunk unless `done`. */
  consumed: number;
  /** The terminating `.CRLF` was consumed. */
  done: boolean;
}

type State = 'bol' | 'text' | 'cr' | 'dot' | 'dotcr';

export class DotDataDecoder {
  private state: State = 'bol';
  private firstViolation: DataViolation | null = null;

  /** The first bare LF / bare CR seen, if any: the message must then be refused. */
  get violation(): DataViolation | null {
    return this.firstViolation;
  }

  private violate(kind: DataViolation): void {
    if (!this.firstViolation) this.firstViolation = kind;
  }

  decode(chunk: Uint8Array): DotDecodeResult {
    const pieces: Uint8Array[] = [];
    let runStart = 0;
    const flush = (end: number, skip: number) => {
      if (!this.firstViolation && end > runStart) pieces.push(chunk.subarray(runStart, end));
      runStart = end + skip;
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (this.state) {
        case 'bol':
          if (b === DOT) {
            flush(i, 1); // the leading dot is never content: stuffing or the terminator
            this.state = 'dot';
          } else this.text(b);
          break;
        case 'text':
          this.text(b);
          break;
        case 'cr':
          if (b === LF) this.state = 'bol';
          else {
            this.violate('bare-cr');
            this.state = 'text';
            this.text(b);
          }
          break;
        case 'dot':
          if (b === CR) {
            flush(i, 1); // hold the CR: it may belong to the terminator
            this.state = 'dotcr';
          } else this.text(b);
          break;
        case 'dotcr':
          if (b === LF) {
            this.state = 'bol';
            return { pieces, consumed: i + 1, done: true };
          }
          this.violate('bare-cr');
          this.state = 'text';
          this.text(b);
          break;
      }
    }
    flush(chunk.length, 0);
    return { pieces, consumed: chunk.length, done: false };
  }

  private text(b: number): void {
    if (b === CR) this.state = 'cr';
    else if (b === LF) {
      this.violate('bare-lf');
      this.state = 'text'; // a bare LF never starts a line
    } else this.state = 'text';
  }
}
