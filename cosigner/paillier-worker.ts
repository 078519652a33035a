/**
 * Generates proven Paillier keys off the main thread: each message is a bit size, each reply a
 * key with its Πmod (bigints cross the thread boundary by structured clone). Keeps the event loop
 * that serves signing requests free of the half-second prime search and proof.
 */
import { parentPort } from 'node:worker_threads';
import { generateProvenPaillierKey } from './paillier-pool.ts';

parentPort?.on('message', (bits: number) => {
  parentPort?.postMessage(generateProvenPaillierKey(bits));
});
