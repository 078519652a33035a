/**
 * Every test file runs on Node's VDF arithmetic (OpenSSL, the native addon), as the Node face
 * does, even when it imports the VDF's inner modules directly and never loads vdf/index.ts.
 * vdf/portable.test.ts switches them off to test the portable face as browsers run it.
 */
import { installNodeAccelerators } from '../../vdf/node-accelerators.ts';

installNodeAccelerators();
