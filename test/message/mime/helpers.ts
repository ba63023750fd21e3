import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import PostalMime from 'postal-mime';
import { expect } from 'vitest';
import {
  type ByteSource,
  type MimeParts,
  type MimeSplitOptions,
  mimeToParts,
  partsToMime,
  splitMimeStream,
} from '../../../src/message/mime/index.js';

export type ComposeOptions = ConstructorParameters<typeof MailComposer>[0];

/** A message built by nodemailer's MailComposer. */
export function compose(options: ComposeOptions): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Splits a buffer into chunks of the given sizes (cycled). */
export function chunked(buf: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  let i = 0;
  while (at < buf.length) {
    const n = Math.max(1, sizes[i++ % sizes.length] ?? 1);
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** splitMimeStream's output collected into the buffered shape. */
export async function splitCollected(input: ByteSource, options?: MimeSplitOptions) {
  const out: MimeParts = {
    commonHeaders: new Uint8Array(0),
    otherHeaders: new Uint8Array(0),
    display: [],
    attachments: [],
    commonFields: { date: '', to: '', from: '', subject: '' },
  };
  for await (const item of splitMimeStream(input, options)) {
    if (item.kind === 'common-headers') {
      out.commonHeaders = item.data;
      out.commonFields = item.fields;
    } else if (item.kind === 'other-headers') out.otherHeaders = item.data;
    else {
      const chunks: Uint8Array[] = [];
      for await (const c of item.data) chunks.push(Buffer.from(c));
      (item.kind === 'display' ? out.display : out.attachments).push(new Uint8Array(Buffer.concat(chunks)));
    }
  }
  return out;
}

// postal-mime's parse tree (its internal MimeNode: headers unfolded, structured Content-Type and
// Content-Disposition, decoded content of leaves); an independent parser to check the mapping with
interface PostalNode {
  headers: { key: string; value: string }[];
  contentType: { parsed: { value: string; params: Record<string, string> } };
  contentDisposition: { parsed: { value: string; params: Record<string, string> } };
  content: ArrayBuffer | Uint8Array | null;
  childNodes: PostalNode[];
}

export async function postalParse(eml: Uint8Array) {
  const parser = new PostalMime();
  const email = await parser.parse(eml);
  const root = (parser as unknown as { root: PostalNode }).root;
  return { email, root };
}

export interface NodeView {
  type: string;
  params: Record<string, string>;
  disposition: string;
  dispositionParams: Record<string, string>;
  /** Non-structural header fields of a nested part, sorted. */
  headers?: string[];
  content?: string;
  children: NodeView[];
}

function withoutBoundary(params: Record<string, string>): Record<string, string> {
  const { boundary: _b, ...rest } = params;
  return rest;
}

function nodeView(n: PostalNode, root: boolean): NodeView {
  const view: NodeView = {
    type: n.contentType.parsed.value.toLowerCase(),
    params: withoutBoundary(n.contentType.parsed.params),
    disposition: n.contentDisposition.parsed.value.toLowerCase(),
    dispositionParams: n.contentDisposition.parsed.params,
    children: n.childNodes.map((c) => nodeView(c, false)),
  };
  if (!root) {
    view.headers = n.headers
      .filter((h) => h.key !== 'content-transfer-encoding' && h.key !== 'content-type')
      .map((h) => `${h.key}: ${h.value}`)
      .sort();
  }
  if (n.childNodes.length === 0 && !/^multipart\//i.test(view.type)) {
    const c = n.content ? new Uint8Array(n.content as ArrayBuffer) : new Uint8Array(0);
    view.content = `${c.length}:${sha256(c)}`;
  }
  return view;
}

/** Fields not compared: dropped (Bcc), rewritten (MIME-Version) or structural at the top level. */
const IGNORED_ROOT = new Set([
  'bcc',
  'resent-bcc',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);

/**
 * What message.md §8 "What lossless means" keeps: every top-level header's name and unfolded value
 * (as a multiset: order may change), the part tree with each part's type, parameters (boundary
 * aside), disposition and its parameters (file names), nested header fields and decoded bytes.
 */
export async function losslessView(eml: Uint8Array, ignore: readonly string[] = []) {
  const { email, root } = await postalParse(eml);
  const headers = root.headers
    .filter((h) => !IGNORED_ROOT.has(h.key) && !ignore.includes(h.key))
    .map((h) => `${h.key}: ${h.value}`)
    .sort();
  return { headers, tree: nodeView(root, true), text: email.text, html: email.html };
}

/** Asserts MIME → DIME → MIME keeps what message.md §8 promises; returns the parts and the rebuilt message. */
export async function expectRoundTrip(eml: Uint8Array, options: MimeSplitOptions = {}) {
  const parts = await mimeToParts(eml, options);
  const rebuilt = await partsToMime(parts);
  const before = await postalParse(eml);
  const added = ['date', 'subject'].filter((k) => !before.root.headers.some((h) => h.key === k));
  expect(await losslessView(rebuilt, added)).toEqual(await losslessView(eml, added));
  return { parts, rebuilt };
}
