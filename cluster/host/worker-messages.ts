/** What the node's main thread and its host connection thread (worker.ts) say to each other. */
import type { HostAddress } from './socket.ts';

export interface WorkerData {
  address: HostAddress;
  /** Int32 [state, length]: state 0 waiting, 1 answered, 2 buffer too small, 3 connection lost. */
  control: SharedArrayBuffer;
}

export type ToWorker =
  | { kind: 'request'; id: number; body: Uint8Array; sync: boolean; buffer?: SharedArrayBuffer }
  /** A larger buffer for a synchronous answer that did not fit. */
  | { kind: 'buffer'; id: number; buffer: SharedArrayBuffer };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'answer'; id: number; body: Uint8Array }
  | { kind: 'lost'; message: string };

export const SYNC = { waiting: 0, answered: 1, tooSmall: 2, lost: 3 } as const;
