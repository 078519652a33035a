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
    const timer = setTimeout(
      () => deadline.abort(new DOMException('no answer in time', 'TimeoutError')),
      timeoutMs,
    );
    const signal = init.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
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
