import { Reader, Writer } from '../bytes.ts';
import { HostClient } from './client.ts';
import { MAX_LISTED, MAX_NAMESPACE, Op } from './protocol.ts';
import type { HostAddress } from './socket.ts';

/**
 * A node's small records kept by its host agent outside any checked store (an enclave has no
 * disk of its own): a generation counter, the KMS-wrapped data key, pointers to stores. Nothing
 * checks these answers, so keep here only what is not secret and whose wrong answer costs
 * liveness, never safety (each use says why).
 */
export class HostMeta {
  readonly #client: HostClient;

  private constructor(client: HostClient) {
    this.#client = client;
  }

  static async open(address: HostAddress, namespace: string): Promise<HostMeta> {
    const client = await HostClient.connect(address);
    try {
      await client.call(Op.open, new Writer().str(namespace));
    } catch (e) {
      await client.close();
      throw e;
    }
    return new HostMeta(client);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const r = await this.#client.call(Op.get, new Writer().u32(0).u32(1).str(key));
    return r.u32() === 1 && r.bool() ? r.bytes(1 << 20) : null;
  }

  /** Puts (or, with null, deletes) one value; synced by the host before it returns. */
  async put(key: string, value: Uint8Array | null): Promise<void> {
    const w = new Writer().u8(1).u32(1).str(key);
    if (value === null) w.u8(0);
    else w.u8(1).bytes(value);
    await this.#client.call(Op.write, w);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/** Runs `use` on the host agent's meta records in `namespace`, then hangs up. */
export async function withHostMeta<T>(
  address: HostAddress,
  namespace: string,
  use: (meta: HostMeta) => Promise<T>,
): Promise<T> {
  const meta = await HostMeta.open(address, namespace);
  try {
    return await use(meta);
  } finally {
    await meta.close();
  }
}

/**
 * Increments a counter the host agent keeps and returns its new value. A node's generation: a
 * stale answer gets the node refused by the cluster (409 STALE_MEMBER) and nothing more.
 */
export function bumpHostCounter(
  address: HostAddress,
  namespace: string,
  key: string,
): Promise<number> {
  return withHostMeta(address, namespace, async (meta) => {
    const stored = await meta.get(key);
    const next = (stored === null ? 0 : new Reader(stored).u64()) + 1;
    await meta.put(key, new Writer().u64(next).finish());
    return next;
  });
}

/** The stores the host agent holds directly under `parent` (untrusted: a store left out is lost). */
export async function listHostStores(address: HostAddress, parent: string): Promise<string[]> {
  const client = await HostClient.connect(address);
  try {
    const r = await client.call(Op.list, new Writer().str(parent));
    const names: string[] = [];
    for (let n = Math.min(r.u32(), MAX_LISTED); n > 0; n--) names.push(r.str(MAX_NAMESPACE));
    return names;
  } finally {
    await client.close();
  }
}
