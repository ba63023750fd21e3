/**
 * Types for the parts of mailsplit (https://github.com/zone-eu/mailsplit, no bundled types) that the
 * MIME mapping uses: the Splitter object stream and its node objects.
 */
declare module 'mailsplit' {
  import type { Transform } from 'node:stream';

  export interface MailsplitHeaderLine {
    /** Lowercase field name ('' for a line without a colon). */
    key: string;
    /** The whole field as a binary (latin1) string, folded lines joined with CRLF. */
    line: string;
  }

  export interface MailsplitHeaders {
    /** The mbox `From ` line that opened the header block, if any. */
    mbox: string | false;
    get(key: string): string[];
    getFirst(key: string): string;
    getList(): MailsplitHeaderLine[];
    hasHeader(key: string): boolean;
    build(lineEnd?: string): Buffer;
  }

  export interface MailsplitNode {
    type: 'node';
    root: boolean;
    parentNode: MailsplitNode | false;
    headers: MailsplitHeaders;
    contentType: string | false;
    charset: string | false;
    disposition: string | false;
    encoding: string | false;
    filename: string | false;
    multipart: string | false;
    _boundary: Buffer | false;
    /** The header block exactly as read (including the empty line that ends it). */
    getHeaders(): Buffer;
    /** A transfer-decoding stream (base64, quoted-printable or pass-through) for the body. */
    getDecoder(): Transform;
  }

  export interface MailsplitChunk {
    /** 'body': leaf content of `node`; 'data': multipart structure (boundaries, preamble, epilogue). */
    type: 'data' | 'body';
    node: MailsplitNode;
    value: Buffer;
  }

  export type MailsplitItem = MailsplitNode | MailsplitChunk;

  export interface SplitterOptions {
    ignoreEmbedded?: boolean;
    defaultInlineEmbedded?: boolean;
    maxHeadSize?: number;
    maxChildNodes?: number;
  }

  interface Mailsplit {
    Splitter: new (options?: SplitterOptions) => Transform;
    Headers: new (headers: Buffer | string) => MailsplitHeaders;
  }

  const mailsplit: Mailsplit;
  export default mailsplit;
}
