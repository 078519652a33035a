/**
 * The host agent refuses bad input with a stable code and changes nothing: frames above the cap
 * (refused from their length alone, before buffering), truncated or trailing bytes, unknown ops,
 * store operations before `open`, namespaces that could leave the data directory, unknown views.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reader, Writer } from '../bytes.ts';
import {
  bodyId,
  FrameReader,
  frame,
  HostError,
  MAX_FRAME,
  Op,
  readResponse,
  request,
} from './protocol.ts';
import { HostAgent } from './server.ts';
import { dialHost, parseHostAddress } from './socket.ts';

let dir: string;
let agent: HostAgent;
const socketPath = () => join(dir, 'host.sock');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-host-proto-'));
  agent = await HostAgent.start({
    dir: join(dir, 'data'),
    address: { kind: 'unix', path: socketPath() },
  });
});

afterAll(async () => {
  await agent.close();
  await rm(dir, { recursive: true, force: true });
});

/** Sends raw bytes, returns the answers' bodies once `n` arrived (or the connection closed). */
async function exchange(s: Socket, bytes: Uint8Array, n = 1): Promise<Uint8Array[]> {
  const frames = new FrameReader();
  const out: Uint8Array[] = [];
  return new Promise((resolve) => {
    const onClose = () => resolve(out);
    const onData = (chunk: Buffer) => {
      out.push(...frames.push(new Uint8Array(chunk)));
      if (out.length >= n) {
        s.off('data', onData);
        s.off('close', onClose);
        resolve(out);
      }
    };
    s.on('data', onData);
    s.once('close', onClose);
    s.write(bytes);
  });
}

function codeOf(body: Uint8Array): string {
  try {
    readResponse(body);
    return 'OK';
  } catch (e) {
    return (e as HostError).code;
  }
}

describe('host agent protocol', () => {
  it('answers bad requests with stable codes and keeps serving the connection', async () => {
    const s = await dialHost({ kind: 'unix', path: socketPath() });
    const cases: [Uint8Array, string][] = [
      [request(1, Op.get, new Writer().u32(0).u32(1).str('k')), 'HOST_NO_NAMESPACE'],
      [request(2, Op.open, new Writer().str('../escape')), 'HOST_BAD_NAMESPACE'],
      [request(3, Op.open, new Writer().str('a/./b')), 'HOST_BAD_NAMESPACE'],
      [request(4, 99 as never), 'HOST_UNKNOWN_OP'],
      [request(5, Op.credentials), 'HOST_NO_CREDENTIALS'],
      [request(6, Op.open, new Writer().str('node-1/raft-x')), 'OK'],
      [request(7, Op.open, new Writer().str('node-1/raft-y')), 'HOST_NO_NAMESPACE'],
      [request(8, Op.get, new Writer().u32(0).u32(5000)), 'HOST_TOO_LARGE'],
      [request(9, Op.get, new Writer().u32(0).u32(2).str('k')), 'HOST_MALFORMED'],
      [request(10, Op.view, new Writer().u8(1)), 'HOST_MALFORMED'],
      [request(11, Op.get, new Writer().u32(42).u32(0)), 'HOST_UNKNOWN_VIEW'],
      [
        request(
          12,
          Op.write,
          new Writer()
            .u8(1)
            .u32(1)
            .str('k')
            .u8(1)
            .u32(1 << 30),
        ),
        'HOST_TOO_LARGE',
      ],
      [Uint8Array.of(1, 2), 'HOST_MALFORMED'],
      [request(13, Op.get, new Writer().u32(0).u32(1).str('k')), 'OK'],
    ];
    for (const [body, code] of cases) {
      const [answer] = await exchange(s, frame(body));
      expect([bodyId(body) === bodyId(answer!) || body.length < 4, codeOf(answer!)]).toEqual([
        true,
        code,
      ]);
    }
    // nothing was written by any refused request: the store holds no key
    const [answer] = await exchange(
      s,
      frame(
        request(14, Op.iterate, new Writer().u32(0).u8(0).str('').str('\uffff').u32(10).u32(1000)),
      ),
    );
    const r = readResponse(answer!);
    expect(r.u32()).toBe(0);
    expect(await readdir(join(dir, 'data'))).toEqual(['node-1']);
    s.destroy();
  });

  it('refuses a frame above the cap from its length alone, says why and hangs up', async () => {
    const s = await dialHost({ kind: 'unix', path: socketPath() });
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, MAX_FRAME + 1);
    const answers = await exchange(s, head);
    expect(answers.map(codeOf)).toEqual(['HOST_TOO_LARGE']);
    await new Promise((r) => (s.destroyed ? r(null) : s.once('close', r)));
  });

  it('listens on a Unix socket only this user may open, or loopback TCP, never beyond', async () => {
    const { stat } = await import('node:fs/promises');
    expect((await stat(socketPath())).mode & 0o777).toBe(0o600);
    await expect(
      HostAgent.start({
        dir: join(dir, 'x'),
        address: { kind: 'tcp', host: '0.0.0.0', port: 7599 },
      }),
    ).rejects.toMatchObject({ code: 'HOST_BAD_ADDRESS' });
    const local = await HostAgent.start({
      dir: join(dir, 'y'),
      address: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    });
    expect(local.port).toBeGreaterThan(0);
    await local.close();
  });

  it('parses addresses strictly', () => {
    expect(parseHostAddress('unix:/run/vigil.sock')).toEqual({
      kind: 'unix',
      path: '/run/vigil.sock',
    });
    expect(parseHostAddress('127.0.0.1:7500')).toEqual({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 7500,
    });
    expect(parseHostAddress('[::1]:7500')).toEqual({ kind: 'tcp', host: '::1', port: 7500 });
    for (const bad of ['unix:', 'host', 'h:0', 'h:70000', 'a b:1']) {
      expect(() => parseHostAddress(bad)).toThrow(HostError);
    }
  });

  it('the frame reader cuts a stream split anywhere into the same frames', () => {
    const bodies = [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(1000).fill(7)];
    const stream = new Uint8Array(bodies.reduce((n, b) => n + 4 + b.length, 0));
    let at = 0;
    for (const b of bodies) {
      stream.set(frame(b), at);
      at += 4 + b.length;
    }
    for (const step of [1, 3, 7, 500]) {
      const fr = new FrameReader();
      const got: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) got.push(...fr.push(stream.slice(i, i + step)));
      expect(got.map((g) => g.length)).toEqual([0, 3, 1000]);
    }
    expect(new Reader(frame(Uint8Array.of(9))).u32()).toBe(1);
  });
});
