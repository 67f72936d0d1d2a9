// Waiting without sleeping: every read that follows an action polls until the expected
// state shows up (or a deadline passes), so a slow machine only makes a test slower, never
// wrong. A fixed sleep is a guess about how long something takes; these are not.
import assert from 'node:assert/strict';

const DEFAULT_TIMEOUT_MS = 10_000;
const INTERVAL_MS = 50;

/** Retries `fn` until it returns something truthy; returns that. Throws `message` on timeout. */
export async function waitFor(fn, { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = INTERVAL_MS, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${lastError.message})` : ` (last value: ${JSON.stringify(last)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Retries `check` (a function that asserts) until it passes; returns what it returned.
 * On timeout, rethrows its last failure, so the report shows the real difference.
 */
export async function eventually(check, { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = INTERVAL_MS } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `read()` until it deep-equals `expected` (assert.deepStrictEqual); fails with the last value. */
export function expectValue(read, expected, message, options) {
  return eventually(async () => assert.deepEqual(await read(), expected, message), options);
}
