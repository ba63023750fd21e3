/** Thrown inside the command parsers for a bad argument; the parsers turn it into a typed error. */
export class CommandArgError extends Error {
  constructor(
    message: string,
    readonly code: 501 | 504 | 555 = 501,
  ) {
    super(message);
    this.name = 'CommandArgError';
  }
}
