export * from './encrypted-key.js';
export * from './key-file.js';
export * from './load.js';
export * from './protected-key.js';
