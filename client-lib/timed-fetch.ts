/**
 * fetch with a deadline that covers the whole exchange, headers and body. Its timer is ref'd,
 * unlike AbortSignal.timeout's: a peer that accepts a connection and drops it can leave fetch
 * pending with no handle open, and a CLI waiting on nothing else would then exit mid-await
 * (code 13) instead of reporting that the server did not answer. On expiry fetch rejects with a
 * TimeoutError, which networkCause() words as "no answer within the time limit".
 */
export type Fetch = typeof fetch;

export function timedFetch(base: Fetch, timeoutMs: number): Fetch {
  return async (input, init = {}) => {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(timeoutError()), timeoutMs);
    const signal = init.signal ? either(init.signal, deadline) : deadline.signal;
    try {
      const res = await base(input, { ...init, signal });
      // Read the body under the same deadline; callers get it already in memory.
      const body = await res.arrayBuffer();
      return new Response(body.byteLength > 0 ? body : null, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } finally {
      clearTimeout(timer);
    }
  };
}

/** A TimeoutError, as a DOMException where there is one (not in React Native). */
function timeoutError(): Error {
  if (typeof DOMException === 'function')
    return new DOMException('no answer in time', 'TimeoutError');
  return Object.assign(new Error('no answer in time'), { name: 'TimeoutError' });
}

/** Aborts with the first of the caller's signal and the deadline (AbortSignal.any where it exists). */
function either(caller: AbortSignal, deadline: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([caller, deadline.signal]);
  if (caller.aborted) deadline.abort(caller.reason);
  else caller.addEventListener('abort', () => deadline.abort(caller.reason), { once: true });
  return deadline.signal;
}
