import { VdfError } from '../errors.ts';
import { hashPrime, modPow } from '../primes/index.ts';
import { decodeForm, encodeForm, FORM_BYTES } from './bqfc.ts';
import { discriminantFromSeed } from './discriminant.ts';
import { type Form, formsEqual, identityForm } from './form.ts';
import { formOpsFor } from './ops.ts';
import { type FormOps, multiExp } from './pow.ts';

/** chiavdf B_bytes: the Fiat–Shamir prime B is 264 bits, carried as 33 bytes in segments. */
export const B_BYTES = 33;
export const SEGMENT_BYTES = 8 + B_BYTES + FORM_BYTES; // 141
/**
 * Deepest n-Wesolowski proof accepted: what honest provers produce (Chia mainnet witness types
 * stay below 20; chiavdf's published records reach 7; ours are depth 0). Each segment costs a
 * verifier a full Wesolowski check, so a deeper bogus proof is only an amplifier.
 */
export const MAX_DEPTH = 20;
/** Largest T accepted: 2^48 ≈ 2.8·10^14, far beyond any vault delay, within u64 and exact doubles. */
export const MAX_ITERATIONS = 2 ** 48;

/** chiavdf GetB: HashPrime(BQFC(x) ‖ BQFC(y), 264, {263}). Does not bind T (Chia's rule). */
export function getB(x: Form, y: Form): bigint {
  return getBOfEncodings(encodeForm(x), encodeForm(y));
}

/**
 * GetB on the BQFC encodings of x and y. The verifier has most of them as the bytes it strictly
 * decoded (which are the canonical encodings), and encoding costs about as much as decoding.
 */
function getBOfEncodings(x: Uint8Array, y: Uint8Array): bigint {
  const input = new Uint8Array(2 * FORM_BYTES);
  input.set(x, 0);
  input.set(y, FORM_BYTES);
  return hashPrime(input, 8 * B_BYTES, [8 * B_BYTES - 1]);
}

/** π^B · x^(2^T mod B): the y a Wesolowski proof π claims for x after T squarings. */
export function wesolowskiClaim(
  D: bigint,
  x: Form,
  proof: Form,
  B: bigint,
  iterations: bigint,
  ops: FormOps = formOpsFor(D),
): Form {
  if (B <= 1n) throw new VdfError('VDF_MALFORMED', 'class1024: B must be above 1');
  const r = modPow(2n, iterations, B);
  return multiExp(ops, [proof, x], [B, r]) ?? identityForm(D);
}

function readU64BE(bytes: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}

function readBE(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}

function checkIterations(iterations: number | bigint): bigint {
  const t = BigInt(iterations);
  if (typeof iterations === 'number' && !Number.isSafeInteger(iterations)) {
    throw new VdfError('VDF_OUT_OF_RANGE', 'class1024: iterations must be an integer');
  }
  if (t < 1n || t > BigInt(MAX_ITERATIONS)) {
    throw new VdfError('VDF_OUT_OF_RANGE', `class1024: iterations must be 1..2^48`);
  }
  return t;
}

/**
 * chiavdf CheckProofOfTimeNWesolowski with a strict decoder. `blob` = y ‖ π ‖ segment_d … segment_1
 * (segment = iters u64 BE ‖ B 33 B BE ‖ π_seg); segments run from the last in the blob, each
 * must carry B = GetB(x, y_seg), and their iterations come off T before the final plain proof.
 * All lengths, T, the depth and every element are checked before any group work.
 * Throws VdfError: VDF_MALFORMED / VDF_OUT_OF_RANGE for bad inputs, VDF_INVALID_PROOF otherwise.
 */
export function verifyChiaBlob(
  D: bigint,
  xBytes: Uint8Array,
  blob: Uint8Array,
  iterations: number | bigint,
  depth: number,
  ops: FormOps = formOpsFor(D),
): void {
  let remaining = checkIterations(iterations);
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) {
    throw new VdfError('VDF_OUT_OF_RANGE', `class1024: depth must be 0..${MAX_DEPTH}`);
  }
  const expected = 2 * FORM_BYTES + depth * SEGMENT_BYTES;
  if (blob.length !== expected) {
    throw new VdfError(
      'VDF_MALFORMED',
      `class1024: proof blob must be ${expected} bytes for depth ${depth}, got ${blob.length}`,
    );
  }
  let x = decodeForm(D, xBytes);
  const yBytes = blob.subarray(0, FORM_BYTES);
  const y = decodeForm(D, yBytes);
  const proof = decodeForm(D, blob.subarray(FORM_BYTES, 2 * FORM_BYTES));
  const segments: { iters: bigint; B: bigint; proof: Form }[] = [];
  for (let k = depth - 1; k >= 0; k--) {
    const at = 2 * FORM_BYTES + k * SEGMENT_BYTES;
    const iters = readU64BE(blob, at);
    // a zero-iteration segment proves nothing and costs a check: no honest prover writes one
    if (iters === 0n) throw new VdfError('VDF_MALFORMED', 'class1024: a segment of 0 iterations');
    const B = readBE(blob, at + 8, B_BYTES);
    if (B <= 1n) throw new VdfError('VDF_MALFORMED', 'class1024: segment B must be above 1');
    const segProof = decodeForm(D, blob.subarray(at + 8 + B_BYTES, at + SEGMENT_BYTES));
    segments.push({ iters, B, proof: segProof });
  }
  let total = 0n;
  for (const s of segments) total += s.iters;
  if (total > remaining) {
    throw new VdfError('VDF_INVALID_PROOF', 'class1024: segment iterations exceed T');
  }
  let xEncoded = xBytes;
  for (const s of segments) {
    const ySeg = wesolowskiClaim(D, x, s.proof, s.B, s.iters, ops);
    const ySegEncoded = encodeForm(ySeg);
    if (getBOfEncodings(xEncoded, ySegEncoded) !== s.B) {
      throw new VdfError('VDF_INVALID_PROOF', 'class1024: segment B does not match its output');
    }
    x = ySeg;
    xEncoded = ySegEncoded;
    remaining -= s.iters;
  }
  const claim = wesolowskiClaim(D, x, proof, getBOfEncodings(xEncoded, yBytes), remaining, ops);
  if (!formsEqual(claim, y)) {
    throw new VdfError('VDF_INVALID_PROOF', 'class1024: π^B · x^r ≠ y');
  }
}

/**
 * Vigil's class1024 verification: D from the seed, `output` = y (100 B) and `proof` = π followed
 * by the n-Wesolowski segments, so output ‖ proof is exactly Chia's blob; the depth follows from
 * the length. Throws VdfError as verifyChiaBlob does.
 */
export function verifyClass1024(
  seed: Uint8Array,
  iterations: number,
  input: Uint8Array,
  output: Uint8Array,
  proof: Uint8Array,
): void {
  checkIterations(iterations);
  if (output.length !== FORM_BYTES) {
    throw new VdfError('VDF_MALFORMED', `class1024: output must be ${FORM_BYTES} bytes`);
  }
  const segBytes = proof.length - FORM_BYTES;
  if (segBytes < 0 || segBytes % SEGMENT_BYTES !== 0) {
    throw new VdfError('VDF_MALFORMED', 'class1024: proof must be 100 + 141·d bytes');
  }
  const depth = segBytes / SEGMENT_BYTES;
  if (depth > MAX_DEPTH) throw new VdfError('VDF_OUT_OF_RANGE', 'class1024: proof too deep');
  const blob = new Uint8Array(FORM_BYTES + proof.length);
  blob.set(output, 0);
  blob.set(proof, FORM_BYTES);
  verifyChiaBlob(discriminantFromSeed(seed), input, blob, iterations, depth);
}

/** One record of chiavdf's src/vdf.txt (seed, x, blob, T, witness type) for 1024-bit D. */
export function verifyChiaRecord(
  seed: Uint8Array,
  xBytes: Uint8Array,
  blob: Uint8Array,
  iterations: number | bigint,
  depth: number,
): void {
  verifyChiaBlob(discriminantFromSeed(seed), xBytes, blob, iterations, depth);
}
