// Worker entry in plain JS: Node 20 workers ignore `--import tsx` in execArgv, so register tsx's
// loader here and then load the TypeScript module named by workerData.entry (a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
