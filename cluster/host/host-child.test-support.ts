/**
 * Test support only: a child process running a real host agent and, in front of it, the host
 * gone bad (faulty-host.test-support.ts). The node's store blocks its thread on synchronous
 * reads, so the host it talks to must not share that thread: tests fork this.
 * argv: <data dir> <host socket> <faulty socket>. IPC in: Partial<Faults>; out: 'ready', 'ok'.
 */
import { startFaultyHost } from './faulty-host.test-support.ts';
import { HostAgent } from './server.ts';

const [dataDir, hostSocket, faultySocket] = process.argv.slice(2) as [string, string, string];
const agent = await HostAgent.start({ dir: dataDir, address: { kind: 'unix', path: hostSocket } });
const faulty = await startFaultyHost(
  { kind: 'unix', path: hostSocket },
  { kind: 'unix', path: faultySocket },
);
process.on('message', (m: Record<string, boolean>) => {
  Object.assign(faulty.faults, m);
  process.send?.('ok');
});
process.on('disconnect', () => {
  void faulty
    .close()
    .then(() => agent.close())
    .finally(() => process.exit(0));
});
process.send?.('ready');
