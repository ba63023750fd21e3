/**
 * The MIME mapping of DIME messages (message.md §8): an RFC 5322/MIME message to the data of chunks
 * 33, 34, 67… and 131… and back, buffered or streamed.
 */
export { type DescribeOptions, describeEntityStream, describeParts, type PartInfo } from './describe.js';
export { classifyPrefix, type PartKind } from './entity.js';
export { rfc5322Date, unfoldValue } from './headers.js';
export {
  DEFAULT_JOIN_LOOKAHEAD,
  type JoinHeaders,
  joinMimeStream,
  type MimeJoinOptions,
  type PartsInput,
  partsToMime,
  type StreamPart,
} from './join.js';
export type { ReaderLimits } from './reader.js';
export {
  DEFAULT_LOOKAHEAD,
  type MimeParts,
  type MimeSplitItem,
  type MimeSplitOptions,
  mimeToParts,
  splitMimeStream,
} from './split.js';
export type { ByteSource } from './streams.js';
