export * from './dime-error.js';
