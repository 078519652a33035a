/**
 * The floor under a replicated write on this machine, for `npm run bench:cluster`: the same
 * message path as a raw put (client → leader → two followers → leader → client, four loopback
 * hops across three processes) and the same disk work (every node appends 256 bytes and
 * fdatasyncs them; the leader answers once its own sync and one follower's are done), with none
 * of our code: no HTTP, Raft, encryption or LevelDB. Whatever the cluster adds is above it.
 *
 * Run as a script with `leader <dir> <port> <port>` or `follower <dir>`, it plays that role and
 * prints its port.
 */
import { spawn } from 'node:child_process';
import { fdatasync, openSync, write } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

const MESSAGE = 256;

/** Calls `onMessage` for every whole MESSAGE-byte message on the socket. */
function messages(socket: Socket, onMessage: (m: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
    while (pending.length >= MESSAGE) {
      onMessage(pending.subarray(0, MESSAGE));
      pending = pending.subarray(MESSAGE);
    }
  });
}

/** Appends and syncs on libuv's thread pool, as LevelDB's synced batch does off the loop. */
function appendSynced(fd: number, m: Buffer, done: () => void): void {
  write(fd, m, (err) => {
    if (err) throw err;
    fdatasync(fd, (e) => {
      if (e) throw e;
      done();
    });
  });
}

function listen(onSocket: (s: Socket) => void): void {
  const server = createServer((s) => {
    s.setNoDelay(true);
    onSocket(s);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(typeof address === 'object' && address ? address.port : 0);
  });
}

function follower(dir: string): void {
  const fd = openSync(join(dir, `follower-${process.pid}`), 'a');
  listen((s) => messages(s, (m) => appendSynced(fd, m, () => s.write(Buffer.of(1)))));
}

function leader(dir: string, ports: number[]): void {
  const fd = openSync(join(dir, 'leader'), 'a');
  const links = ports.map((port) => connect({ host: '127.0.0.1', port, noDelay: true }));
  let waiting: { acks: number; synced: boolean; reply: () => void } | null = null;
  const settle = () => {
    if (waiting?.synced && waiting.acks > 0) {
      const w = waiting;
      waiting = null;
      w.reply();
    }
  };
  for (const l of links)
    l.on('data', (d: Buffer) => {
      if (waiting) waiting.acks += d.length;
      settle();
    });
  listen((client) =>
    messages(client, (m) => {
      waiting = { acks: 0, synced: false, reply: () => client.write(Buffer.of(1)) };
      const w = waiting;
      for (const l of links) l.write(m); // sent before the leader's own write, as Raft's leader does
      appendSynced(fd, m, () => {
        w.synced = true;
        settle();
      });
    }),
  );
}

function spawnRole(args: string[]): Promise<{ port: number; kill: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) =>
      resolve({ port: Number(d.toString().trim()), kill: () => child.kill('SIGTERM') }),
    );
    child.once('exit', (code) => reject(new Error(`floor ${args[0]} exited (${code})`)));
  });
}

/** Starts the three processes; `put()` is one write through them, `stop()` ends them. */
export async function startFloor(dir: string) {
  const followers = await Promise.all([spawnRole(['follower', dir]), spawnRole(['follower', dir])]);
  const lead = await spawnRole(['leader', dir, ...followers.map((f) => String(f.port))]);
  const socket = connect({ host: '127.0.0.1', port: lead.port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let answer: (() => void) | null = null;
  socket.on('data', () => answer?.());
  return {
    put(payload: Uint8Array): Promise<void> {
      if (payload.length !== MESSAGE) throw new Error(`floor put: ${MESSAGE} bytes`);
      return new Promise<void>((resolve) => {
        answer = resolve;
        socket.write(payload);
      });
    },
    stop(): void {
      socket.destroy();
      for (const p of [lead, ...followers]) p.kill();
    },
  };
}

if (import.meta.filename === process.argv[1]) {
  const [role, dir, ...ports] = process.argv.slice(2);
  if (role === 'follower' && dir) follower(dir);
  else if (role === 'leader' && dir && ports.length > 0) leader(dir, ports.map(Number));
  else throw new Error('usage: cluster-floor.ts follower <dir> | leader <dir> <port>...');
}
