import { expect } from 'vitest';
import { LimitExceeded } from '../../host/limits.js';

/** Runs f, which must throw a LimitExceeded; returns it. */
export function limitError(f: () => unknown): LimitExceeded {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LimitExceeded);
    return e as LimitExceeded;
  }
  throw new Error('expected a LimitExceeded');
}
