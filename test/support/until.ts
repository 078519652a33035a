/**
 * Waits for `f` to return something truthy, polling every 20 ms, and returns it; throws once
 * `ms` has passed (deadlines sized for a loaded 2-core machine: never a fixed sleep).
 */
export async function until<T>(
  f: () => T | undefined | null | false,
  ms = 10_000,
  what = 'a condition',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    // a promise is always truthy: an async condition would "hold" at once
    if (v instanceof Promise) throw new Error('until: the condition must be synchronous');
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
