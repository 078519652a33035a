/**
 * socat bridges for tests of the vsock transport: the relay sockets a node listens and dials on,
 * joined the way the enclave image and the parent instance join them (docs/operator-guide.md,
 * "Transport"). The middle leg is real vsock where this kernel has vsock loopback; elsewhere it
 * is loopback TCP, and the test says so.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { until } from './until.ts';

/** Why socat bridges cannot run here, or null when they can. */
export function socatMissing(): string | null {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.error || r.status !== 0 ? 'socat is not installed (.ci/run installs it)' : null;
}

const children = new Set<ChildProcess>();

/** Starts `socat -d <a> <b>`; stopped by `stopBridges`. */
export function socat(a: string, b: string): ChildProcess {
  const child = spawn('socat', [a, b], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stopBridges(): Promise<void> {
  const waits = [...children].map(
    (c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r()))),
  );
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(waits);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let vsockChecked: Promise<string | null> | undefined;

/** Null when a vsock connection to the local CID works (vsock_loopback); else why not. */
export function vsockLoopbackMissing(): Promise<string | null> {
  vsockChecked ??= (async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const listener = socat(`VSOCK-LISTEN:${port}`, 'SYSTEM:echo vsock-ok');
    await new Promise((r) => setTimeout(r, 200)); // probe only: a listener that never binds
    const r = spawnSync('socat', ['-T2', '-', `VSOCK-CONNECT:1:${port}`], {
      input: '',
      timeout: 5_000,
      encoding: 'utf8',
    });
    listener.kill('SIGTERM');
    if (r.stdout?.includes('vsock-ok')) return null;
    return `no vsock loopback on this kernel (${(r.stderr ?? '').trim().split('\n').pop() ?? 'no answer'})`;
  })();
  return vsockChecked;
}

/**
 * Joins a socket a node dials (`dialPath`) to a socket a node listens on (`listenPath`) through
 * a middle leg, as enclave → parent → enclave: vsock when `overVsock`, else loopback TCP.
 */
export async function relay(dialPath: string, listenPath: string, overVsock: boolean) {
  const port = overVsock ? 20_000 + Math.floor(Math.random() * 20_000) : await freePort();
  if (overVsock) {
    socat(`VSOCK-LISTEN:${port},fork,reuseaddr`, `UNIX-CONNECT:${listenPath}`);
    socat(`UNIX-LISTEN:${dialPath},fork,unlink-early`, `VSOCK-CONNECT:1:${port}`);
  } else {
    socat(`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${listenPath}`);
    socat(`UNIX-LISTEN:${dialPath},fork,unlink-early`, `TCP:127.0.0.1:${port}`);
  }
  await until(() => existsSync(dialPath), 10_000, `socat listening at ${dialPath}`);
}
