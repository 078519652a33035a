/**
 * What went wrong on the wire, in a few words a person can act on. fetch() reports every network
 * failure as "fetch failed" and hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a bad
 * port, a timeout); messages that name a server should carry that reason along.
 */
export function networkCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'no answer within the time limit';
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && !cause.message.includes(code)) {
      return `${code}: ${cause.message}`;
    }
    return cause.message;
  }
  return err.message;
}

/** Whether fetch() failed on the network (its TypeError "fetch failed", or a timeout). */
export function isNetworkFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'TimeoutError' || (err instanceof TypeError && err.message === 'fetch failed')
  );
}
