export { type RandomBytes, systemRandom } from '../cosigner/index.ts';
