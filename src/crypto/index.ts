import { nodeCryptoProvider } from './node-provider.js';
import type { CryptoProvider } from './provider.js';

export type { CryptoProvider } from './provider.js';

let current: CryptoProvider = nodeCryptoProvider;

/** The active provider (native on Node). A browser build installs its own with setCryptoProvider. */
export function crypto(): CryptoProvider {
  return current;
}

export function setCryptoProvider(p: CryptoProvider): void {
  current = p;
}
