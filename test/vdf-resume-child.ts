/** Child process for test/vdf-resume.test.ts: solves until killed. argv: dir seedHex T */
import { solve } from '../vdf/index.ts';

const [dir, seedHex, t] = process.argv.slice(2);
await solve({
  group: 'rsa2048',
  seed: new Uint8Array(Buffer.from(seedHex!, 'hex')),
  iterations: Number(t),
  checkpointDir: dir!,
  workers: 'never',
});
process.stdout.write('finished\n');
