import { expect } from 'vitest';
import { StudioError } from '../errors.ts';

/** The StudioError a studio call rejects with; fails the test when it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>): Promise<StudioError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StudioError);
    return error as StudioError;
  }
  throw new Error('expected a rejection');
}
