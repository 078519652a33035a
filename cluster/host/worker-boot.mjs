// Worker entry in plain JS: Node 20 workers ignore `--import tsx` in execArgv, so register tsx's
// loader here and then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
