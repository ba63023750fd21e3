import { DimeError } from '../../errors/index.js';
import type { Dialect } from './engine.js';

/** Turns a unique or foreign-key violation into CONFLICT; anything else is rethrown as is. */
export function rethrowConstraint(dialect: Dialect, error: unknown, message: string): never {
  const kind = dialect.constraint(error);
  if (kind) throw new DimeError('CONFLICT', message, { constraint: kind });
  throw error;
}

export function notFound(what: string, context: Record<string, unknown> = {}): never {
  throw new DimeError('NOT_FOUND', `${what} not found`, context);
}
