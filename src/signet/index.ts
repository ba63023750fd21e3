export * from './build.js';
export * from './field-table.js';
export * from './fingerprint.js';
export * from './signet.js';
export * from './verify.js';
