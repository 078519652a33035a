/**
 * The host agent (`vigil host`): runs on the parent instance beside the enclave, owns LevelDB
 * directories on the parent's disk and serves the node's storage seam over one socket per node.
 * It stores what it is given (values the node has sealed) and knows nothing of their meaning;
 * the node trusts none of its answers (authenticated.ts). A synced write is fsynced before it
 * is acknowledged.
 */
import { mkdir, readdir } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { Level } from 'level';
import { Reader, Writer } from '../bytes.ts';
import {
  asHostError,
  bodyId,
  errorResponse,
  frame,
  HostError,
  MAX_KEY,
  MAX_KEYS_PER_GET,
  MAX_LISTED,
  MAX_NAMESPACE,
  MAX_PAGE_BYTES,
  MAX_PAGE_RECORDS,
  MAX_VALUE,
  MAX_VIEWS,
  Op,
  okResponse,
  onFrames,
} from './protocol.ts';
import { type HostAddress, isLoopback, listenHost } from './socket.ts';

type Db = Level<string, Uint8Array>;
type Snapshot = ReturnType<Db['snapshot']>;

export interface HostAgentOptions {
  /** Every store lives in `<dir>/<namespace>/`. */
  readonly dir: string;
  readonly address: HostAddress;
  /** The parent's current credentials, encoded, for `credentials` requests (absent: refused). */
  readonly credentials?: () => Promise<Uint8Array>;
  readonly log?: (line: string) => void;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

function checkNamespace(ns: string): void {
  const parts = ns.split('/');
  if (ns.length > MAX_NAMESPACE || parts.length > 4 || !parts.every((p) => SEGMENT.test(p))) {
    throw new HostError('HOST_BAD_NAMESPACE', 'namespace: 1..4 segments of letters, digits, . _ -');
  }
}

/** Stores opened by namespace, shared by the connections that name them, closed with the last. */
class Stores {
  readonly #dir: string;
  readonly #open = new Map<string, { db: Promise<Db>; users: number }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  acquire(ns: string): Promise<Db> {
    let s = this.#open.get(ns);
    if (!s) {
      const path = join(this.#dir, ns);
      const db = mkdir(path, { recursive: true, mode: 0o700 }).then(async () => {
        const level: Db = new Level(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
        await level.open();
        return level;
      });
      s = { db, users: 0 };
      this.#open.set(ns, s);
      db.catch(() => this.#open.delete(ns));
    }
    s.users++;
    return s.db;
  }

  /** The stores directly under `parent` (directories holding a LevelDB), sorted. */
  async list(parent: string): Promise<Uint8Array> {
    const found = await readdir(join(this.#dir, parent), { withFileTypes: true }).catch(() => []);
    const names: string[] = [];
    for (const d of found) {
      if (!d.isDirectory() || !SEGMENT.test(d.name)) continue;
      const current = await readdir(join(this.#dir, parent, d.name)).catch(() => [] as string[]);
      if (current.includes('CURRENT')) names.push(d.name);
    }
    names.sort();
    if (names.length > MAX_LISTED)
      throw new HostError('HOST_TOO_LARGE', `more than ${MAX_LISTED} stores under ${parent}`);
    const w = new Writer().u32(names.length);
    for (const n of names) w.str(n);
    return w.finish();
  }

  async release(ns: string): Promise<void> {
    const s = this.#open.get(ns);
    if (!s || --s.users > 0) return;
    this.#open.delete(ns);
    await (await s.db).close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map(async (s) => (await s.db.catch(() => null))?.close()));
  }
}

/** One node's connection: its store, its views, its requests answered one after another. */
class Session {
  readonly #agent: HostAgent;
  readonly #socket: Socket;
  #ns: string | null = null;
  #db: Db | null = null;
  readonly #views = new Map<number, Snapshot>();
  #nextView = 1;
  #queue: Promise<void> = Promise.resolve();

  constructor(agent: HostAgent, socket: Socket) {
    this.#agent = agent;
    this.#socket = socket;
    onFrames(
      socket,
      (body) => {
        this.#queue = this.#queue.then(() => this.#answer(body));
      },
      // a stream that cannot be cut into frames any more: say why, then hang up
      (err) => socket.end(frame(errorResponse(0, err.code, err.message))),
    );
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#queue = this.#queue.then(() => this.#close());
    });
  }

  async #answer(body: Uint8Array): Promise<void> {
    const id = bodyId(body);
    let out: Uint8Array;
    try {
      if (id < 0) throw new HostError('HOST_MALFORMED', 'a frame without a request id');
      out = okResponse(id, await this.#handle(new Reader(body.subarray(4))));
    } catch (e) {
      const err = asHostError(e);
      out = errorResponse(Math.max(id, 0), err.code, err.message);
    }
    if (!this.#socket.destroyed) this.#socket.write(frame(out));
  }

  async #handle(r: Reader): Promise<Uint8Array | undefined> {
    const op = r.u8();
    switch (op) {
      case Op.open: {
        const ns = r.str(MAX_NAMESPACE);
        r.end();
        checkNamespace(ns);
        if (this.#ns !== null) throw new HostError('HOST_NO_NAMESPACE', 'already open');
        this.#ns = ns;
        this.#db = await this.#agent.stores.acquire(ns);
        return undefined;
      }
      case Op.credentials: {
        r.end();
        const source = this.#agent.options.credentials;
        if (!source)
          throw new HostError('HOST_NO_CREDENTIALS', 'this host agent passes no credentials');
        return new Writer().bytes(await source()).finish();
      }
      case Op.list: {
        const parent = r.str(MAX_NAMESPACE);
        r.end();
        checkNamespace(parent);
        return this.#agent.stores.list(parent);
      }
      case Op.get:
        return this.#get(r);
      case Op.write:
        return this.#write(r);
      case Op.iterate:
        return this.#iterate(r);
      case Op.view: {
        r.end();
        const db = this.#store();
        if (this.#views.size >= MAX_VIEWS)
          throw new HostError('HOST_TOO_MANY_VIEWS', `at most ${MAX_VIEWS} views`);
        const id = this.#nextView++;
        this.#views.set(id, db.snapshot());
        return new Writer().u32(id).finish();
      }
      case Op.release: {
        const id = r.u32();
        r.end();
        const snapshot = this.#view(id);
        this.#views.delete(id);
        await snapshot?.close();
        return undefined;
      }
      default:
        throw new HostError('HOST_UNKNOWN_OP', `unknown op ${op}`);
    }
  }

  #store(): Db {
    if (this.#db === null) throw new HostError('HOST_NO_NAMESPACE', 'open a store first');
    return this.#db;
  }

  /** View 0 is the store as it is now. */
  #view(id: number): Snapshot | undefined {
    if (id === 0) return undefined;
    const s = this.#views.get(id);
    if (!s) throw new HostError('HOST_UNKNOWN_VIEW', `no view ${id}`);
    return s;
  }

  async #get(r: Reader): Promise<Uint8Array> {
    const db = this.#store();
    const snapshot = this.#view(r.u32());
    const n = r.u32();
    if (n > MAX_KEYS_PER_GET)
      throw new HostError('HOST_TOO_LARGE', `at most ${MAX_KEYS_PER_GET} keys`);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(r.str(MAX_KEY));
    r.end();
    const values = await db.getMany(keys, snapshot ? { snapshot } : {});
    const w = new Writer().u32(values.length);
    for (const v of values) {
      if (v === undefined) w.u8(0);
      else w.u8(1).bytes(v);
    }
    return w.finish();
  }

  async #write(r: Reader): Promise<undefined> {
    const db = this.#store();
    const sync = r.bool();
    const n = r.u32();
    const ops: ({ type: 'del'; key: string } | { type: 'put'; key: string; value: Uint8Array })[] =
      [];
    for (let i = 0; i < n; i++) {
      const key = r.str(MAX_KEY);
      ops.push(r.bool() ? { type: 'put', key, value: r.bytes(MAX_VALUE) } : { type: 'del', key });
    }
    r.end();
    if (ops.length > 0) await db.batch(ops, { sync });
    else if (sync) await db.batch([{ type: 'del', key: '\u0000sync' }], { sync: true });
    return undefined;
  }

  async #iterate(r: Reader): Promise<Uint8Array> {
    const db = this.#store();
    const snapshot = this.#view(r.u32());
    const after = r.bool();
    const from = r.str(MAX_KEY);
    const lt = r.str(MAX_KEY);
    const maxRecords = Math.min(r.u32(), MAX_PAGE_RECORDS);
    const maxBytes = Math.min(r.u32(), MAX_PAGE_BYTES);
    r.end();
    const w = new Writer();
    const records: [string, Uint8Array][] = [];
    let bytes = 0;
    let done = true;
    const bounds = after ? { gt: from, lt } : { gte: from, lt };
    for await (const [key, value] of db.iterator({
      ...bounds,
      ...(snapshot ? { snapshot } : {}),
    })) {
      if (
        records.length >= Math.max(1, maxRecords) ||
        (records.length > 0 && bytes + value.length > maxBytes)
      ) {
        done = false;
        break;
      }
      records.push([key, value]);
      bytes += key.length + value.length;
    }
    w.u32(records.length);
    for (const [k, v] of records) w.str(k).bytes(v);
    return w.u8(done ? 1 : 0).finish();
  }

  async #close(): Promise<void> {
    for (const s of this.#views.values()) await s.close().catch(() => {});
    this.#views.clear();
    if (this.#ns !== null) await this.#agent.stores.release(this.#ns);
    this.#ns = null;
    this.#db = null;
  }
}

export class HostAgent {
  readonly options: HostAgentOptions;
  readonly stores: Stores;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(options: HostAgentOptions, server: Server) {
    this.options = options;
    this.stores = new Stores(options.dir);
    this.#server = server;
  }

  static async start(options: HostAgentOptions): Promise<HostAgent> {
    if (!isLoopback(options.address)) {
      throw new HostError(
        'HOST_BAD_ADDRESS',
        'the host agent listens on a Unix socket or loopback TCP only: whoever connects gets the stores and the credentials',
      );
    }
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    let agent: HostAgent | undefined;
    const pending: Socket[] = [];
    const server = await listenHost(options.address, (s) => {
      if (agent) agent.#accept(s);
      else pending.push(s);
    });
    agent = new HostAgent(options, server);
    for (const s of pending) agent.#accept(s);
    return agent;
  }

  #accept(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    new Session(this, s);
  }

  /** The bound TCP port (for an address given with port 0). */
  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
    await this.stores.closeAll();
  }
}
