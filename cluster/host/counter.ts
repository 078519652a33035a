import { Reader, Writer } from '../bytes.ts';
import { HostClient } from './client.ts';
import { Op } from './protocol.ts';
import type { HostAddress } from './socket.ts';

/**
 * Increments a counter the host agent keeps in `namespace` and returns its new value (synced
 * before it returns). Nothing checks the answer: use it only for a value whose wrong answer
 * costs liveness, not safety — a node's generation, which a stale answer makes the cluster
 * refuse (409 STALE_MEMBER) and nothing more, since an enclave has no disk of its own to keep it.
 */
export async function bumpHostCounter(
  address: HostAddress,
  namespace: string,
  key: string,
): Promise<number> {
  const client = await HostClient.connect(address);
  try {
    await client.call(Op.open, new Writer().str(namespace));
    const r = await client.call(Op.get, new Writer().u32(0).u32(1).str(key));
    const prev = r.u32() === 1 && r.bool() ? new Reader(r.bytes(8)).u64() : 0;
    const next = prev + 1;
    const value = new Writer().u64(next).finish();
    await client.call(Op.write, new Writer().u8(1).u32(1).str(key).u8(1).bytes(value));
    return next;
  } finally {
    await client.close();
  }
}
