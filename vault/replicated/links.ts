/**
 * What travels on the attested peer links besides Raft: epoch secrets (only ever here, never on
 * disk or in the log) and their acknowledgements. One tag byte in front of every message.
 */
import { Reader, Writer } from '../../cluster/index.ts';
import { EPOCH_ID_BYTES } from './codec.ts';

export const TAG_RAFT = 0;
export const TAG_EPOCHS = 1;
export const TAG_EPOCH_ACK = 2;

export function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

export function encodeEpochs(list: { epochId: Uint8Array; secret: Uint8Array }[]): Uint8Array {
  const w = new Writer().u32(list.length);
  for (const e of list) w.bytes(e.epochId).bytes(e.secret);
  return tagged(TAG_EPOCHS, w.finish());
}

export function decodeEpochs(body: Uint8Array): { epochId: Uint8Array; secret: Uint8Array }[] {
  const r = new Reader(body);
  const n = r.u32();
  if (n > 1024) throw new Error('too many epochs');
  const out = [];
  for (let i = 0; i < n; i++) {
    const epochId = r.bytes(EPOCH_ID_BYTES);
    const secret = r.bytes(32);
    if (epochId.length !== EPOCH_ID_BYTES || secret.length !== 32) throw new Error('bad epoch');
    out.push({ epochId, secret });
  }
  r.end();
  return out;
}

export function encodeEpochAck(epochId: Uint8Array): Uint8Array {
  return tagged(TAG_EPOCH_ACK, epochId);
}
