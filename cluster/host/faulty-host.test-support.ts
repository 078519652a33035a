/**
 * Test support only: a host agent gone bad. It sits between a node and a real host agent (real
 * sockets both sides), reads the protocol, and can answer stale reads (a reply recorded earlier
 * for the same keys), drop writes (acknowledged, never forwarded), reorder or thin an iteration
 * page, or die in the middle of a batch (forwarded, then the node's connection cut unanswered).
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { Reader, Writer } from '../bytes.ts';
import { bodyId, FrameReader, frame, Op, okResponse } from './protocol.ts';
import { dialHost, type HostAddress, listenHost } from './socket.ts';

export interface Faults {
  /** Answer every read with the first reply ever seen for the same request. */
  staleReads: boolean;
  /** Acknowledge writes without forwarding them. */
  dropWrites: boolean;
  /** Swap the first two records of every iteration page. */
  reorderPages: boolean;
  /** Leave out the last record of every iteration page of more than one. */
  thinPages: boolean;
  /** Forward the next write, then cut the node off before it is answered. */
  dieOnNextWrite: boolean;
  /** Only connections that opened this namespace misbehave (default: all). */
  onlyNamespace?: string;
}

export interface FaultyHost {
  readonly address: HostAddress;
  readonly faults: Faults;
  /** Writes seen (forwarded or dropped). */
  writes: number;
  close(): Promise<void>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function startFaultyHost(
  upstream: HostAddress,
  address: HostAddress,
): Promise<FaultyHost> {
  const sockets = new Set<Socket>();
  const firstReplies = new Map<string, Uint8Array>();
  const host: FaultyHost = {
    address,
    faults: {
      staleReads: false,
      dropWrites: false,
      reorderPages: false,
      thinPages: false,
      dieOnNextWrite: false,
    },
    writes: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const server = await listenHost(address, (node) => {
    sockets.add(node);
    void dialHost(upstream).then((real) => {
      sockets.add(real);
      const asked = new Map<number, { op: number; payload: Uint8Array }>();
      let namespace = '';
      const honest = () =>
        host.faults.onlyNamespace !== undefined && host.faults.onlyNamespace !== namespace;
      const fromNode = new FrameReader();
      const fromHost = new FrameReader();
      node.on('data', (chunk: Buffer) => {
        for (const body of fromNode.push(new Uint8Array(chunk))) {
          const id = bodyId(body);
          const op = body[4]!;
          const payload = body.subarray(5);
          if (op === Op.open) namespace = new Reader(payload).str(255);
          if (honest()) {
            asked.set(id, { op, payload });
            real.write(frame(body));
            continue;
          }
          if (op === Op.write) {
            host.writes++;
            if (host.faults.dropWrites) {
              node.write(frame(okResponse(id)));
              continue;
            }
            if (host.faults.dieOnNextWrite) {
              host.faults.dieOnNextWrite = false;
              // the batch reaches the host; its answer never reaches the node
              asked.set(id, { op: -1, payload });
              real.write(frame(body));
              continue;
            }
          }
          if (op === Op.get && host.faults.staleReads) {
            const old = firstReplies.get(namespace + hex(payload));
            if (old) {
              node.write(frame(okResponse(id, old)));
              continue;
            }
          }
          asked.set(id, { op, payload });
          real.write(frame(body));
        }
      });
      real.on('data', (chunk: Buffer) => {
        for (const body of fromHost.push(new Uint8Array(chunk))) {
          const id = bodyId(body);
          const q = asked.get(id);
          asked.delete(id);
          if (q?.op === -1) {
            node.destroy();
            continue;
          }
          let out = body;
          if (q && body[4] === 0) {
            const reply = body.subarray(5);
            const seen = namespace + hex(q.payload);
            if (q.op === Op.get && !firstReplies.has(seen)) firstReplies.set(seen, reply);
            if (q.op === Op.iterate && !honest())
              out = okResponse(id, tamperPage(reply, host.faults));
          }
          node.write(frame(out));
        }
      });
      const end = () => {
        node.destroy();
        real.destroy();
      };
      node.on('close', end);
      real.on('close', end);
      node.on('error', () => {});
      real.on('error', () => {});
    });
  });
  return host;
}

function tamperPage(reply: Uint8Array, f: Faults): Uint8Array {
  if (!f.reorderPages && !f.thinPages) return reply;
  const r = new Reader(reply);
  const records: [string, Uint8Array][] = [];
  for (let n = r.u32(); n > 0; n--) records.push([r.str(1024), r.bytes(1 << 26)]);
  const done = r.bool();
  if (f.reorderPages && records.length > 1) [records[0], records[1]] = [records[1]!, records[0]!];
  if (f.thinPages && records.length > 1) records.pop();
  const w = new Writer().u32(records.length);
  for (const [k, v] of records) w.str(k).bytes(v);
  return w.u8(done ? 1 : 0).finish();
}

/** A real host agent and its faulty front in a child process (host-child.test-support.ts). */
export interface FaultyHostProcess {
  readonly child: ChildProcess;
  setFaults(f: Partial<Faults>): Promise<void>;
  stop(): Promise<void>;
}

export async function forkFaultyHost(
  dataDir: string,
  hostSocket: string,
  faultySocket: string,
): Promise<FaultyHostProcess> {
  const child = fork(
    new URL('./host-child.test-support.ts', import.meta.url),
    [dataDir, hostSocket, faultySocket],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const next = () =>
    new Promise<void>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`host child exited (${code})`));
      child.once('exit', exited);
      child.once('message', () => {
        child.off('exit', exited);
        resolve();
      });
    });
  await next();
  return {
    child,
    async setFaults(f) {
      const acked = next();
      child.send(f);
      await acked;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}
