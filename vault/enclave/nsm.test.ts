import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'cborg';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithVectors, readVector, readVectorText } from '../../test/support/vectors.ts';
import { VaultError } from '../errors.ts';
import type { AttestationRequest } from './attestation.ts';
import { parseCoseSign1, STRICT_CBOR } from './cose.ts';
import { NitroAttestationProvider } from './nitro-provider.ts';
import { verifyNitroAttestation } from './nitro-verifier.ts';
import {
  decodeAttestationResponse,
  encodeAttestationRequest,
  loadNsmAddon,
  NSM_ADDON_PATH,
  NSM_REQUEST_MAX_BYTES,
  NSM_RESPONSE_MAX_BYTES,
  type NsmTransport,
  nsmAttest,
} from './nsm.ts';
import { parseAttestationFields } from './payload.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const text = (s: string) => hex(Buffer.from(s));

function vaultErrorOf(run: () => unknown): VaultError {
  try {
    run();
  } catch (err) {
    if (err instanceof VaultError) return err;
    throw err;
  }
  throw new Error('expected a VaultError');
}

function attestationResponse(document: unknown): Uint8Array {
  return encode(new Map([['Attestation', new Map([['document', document]])]]));
}

const scratch = mkdtempSync(join(tmpdir(), 'vigil-nsm-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** An existing path that is not an NSM: the provider's presence check passes, the ioctl fails. */
const notNsm = join(scratch, 'regular-file');
writeFileSync(notNsm, 'not a device');

describe('NSM request encoding', () => {
  it('is byte for byte what AWS libnsm sends: externally tagged, fields in declaration order', () => {
    const prefix = `a1 6b${text('Attestation')} a3`.replaceAll(' ', '');
    expect(hex(encodeAttestationRequest({}))).toBe(
      `${prefix}69${text('user_data')}f665${text('nonce')}f66a${text('public_key')}f6`,
    );
    expect(
      hex(
        encodeAttestationRequest({
          userData: Uint8Array.of(1, 2),
          nonce: new Uint8Array(0),
          publicKey: Uint8Array.of(0xff),
        }),
      ),
    ).toBe(
      `${prefix}69${text('user_data')}420102` +
        `65${text('nonce')}40` +
        `6a${text('public_key')}41ff`,
    );
  });

  it('takes the largest fields the NSM accepts and stays under NSM_REQUEST_MAX_SIZE', () => {
    const request = {
      userData: new Uint8Array(512).fill(1),
      nonce: new Uint8Array(512).fill(2),
      publicKey: new Uint8Array(1024).fill(3),
    };
    const bytes = encodeAttestationRequest(request);
    expect(bytes.length).toBeLessThanOrEqual(NSM_REQUEST_MAX_BYTES);
    const decoded = decode(bytes, STRICT_CBOR) as Map<string, Map<string, Uint8Array>>;
    const body = decoded.get('Attestation')!;
    expect([...body.keys()]).toEqual(['user_data', 'nonce', 'public_key']);
    expect(body.get('public_key')).toEqual(request.publicKey);
    expect(body.get('nonce')).toEqual(request.nonce);
  });

  it('refuses oversized and non-byte fields with ATTESTATION_REQUEST_INVALID', () => {
    for (const [request, name] of [
      [{ userData: new Uint8Array(513) }, 'user_data'],
      [{ nonce: new Uint8Array(513) }, 'nonce'],
      [{ publicKey: new Uint8Array(1025) }, 'public_key'],
      [{ nonce: [1, 2] as unknown as Uint8Array }, 'nonce'],
    ] as const) {
      const err = vaultErrorOf(() => encodeAttestationRequest(request));
      expect(err.code).toBe('ATTESTATION_REQUEST_INVALID');
      expect(err.message).toContain(name);
    }
  });
});

describe('NSM response decoding', () => {
  const doc = Uint8Array.of(0x84, 1, 2, 3);

  it('returns the document of an Attestation response', () => {
    expect(decodeAttestationResponse(attestationResponse(doc))).toEqual(doc);
  });

  it('turns an Error response into ATTESTATION_UNAVAILABLE naming the NSM error', () => {
    for (const code of ['InvalidArgument', 'InputTooLarge', 'InternalError', 'InvalidOperation']) {
      const err = vaultErrorOf(() => decodeAttestationResponse(encode(new Map([['Error', code]]))));
      expect(err.code).toBe('ATTESTATION_UNAVAILABLE');
      expect(err.status).toBe(503);
      expect(err.message).toBe(`the NSM refused the attestation request: ${code}`);
    }
  });

  const malformed: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /0 bytes/],
    ['oversized', new Uint8Array(NSM_RESPONSE_MAX_BYTES + 1), /12289 bytes/],
    ['not CBOR', Uint8Array.of(0xff, 0x00), /not valid CBOR/],
    ['truncated', attestationResponse(doc).subarray(0, 20), /not valid CBOR/],
    ['trailing bytes', Uint8Array.from([...attestationResponse(doc), 0x00]), /not valid CBOR/],
    ['indefinite map', Uint8Array.of(0xbf, 0x61, 0x61, 0x01, 0xff), /not valid CBOR/],
    ['a bare string', encode('Attestation'), /exactly one variant/],
    [
      'two variants',
      encode(
        new Map<string, unknown>([
          ['Attestation', 1],
          ['Error', 'x'],
        ]),
      ),
      /exactly one variant/,
    ],
    [
      'other variant',
      encode(new Map([['GetRandom', new Map([['random', doc]])]])),
      /got "GetRandom"/,
    ],
    ['non-text variant', encode(new Map([[1, doc]])), /got a value/],
    ['Error not text', encode(new Map([['Error', 7]])), /error code name/],
    ['Error free text', encode(new Map([['Error', 'no such thing; rm -rf']])), /error code name/],
    ['body not a map', encode(new Map([['Attestation', doc]])), /only "document"/],
    [
      'extra field',
      encode(
        new Map([
          [
            'Attestation',
            new Map<string, unknown>([
              ['document', doc],
              ['x', 1],
            ]),
          ],
        ]),
      ),
      /only "document"/,
    ],
    ['document as text', attestationResponse('doc'), /byte string/],
    ['empty document', attestationResponse(new Uint8Array(0)), /byte string/],
    [
      'a document beyond the buffer',
      attestationResponse(new Uint8Array(NSM_RESPONSE_MAX_BYTES)),
      /\d+ bytes \(must be 1\.\.12288\)/,
    ],
  ];
  for (const [name, bytes, message] of malformed) {
    it(`rejects ${name} as a malformed NSM response`, () => {
      const err = vaultErrorOf(() => decodeAttestationResponse(bytes));
      expect(err.code).toBe('ATTESTATION_UNAVAILABLE');
      expect(err.status).toBe(502);
      expect(err.message).toMatch(/^the NSM answered with a malformed response: /);
      expect(err.message).toMatch(message);
    });
  }
});

interface RecordedDocument {
  name: string;
  document: Uint8Array;
  request: AttestationRequest;
  timestampMs: number;
}

/** Real NSM documents with the bindings each one carries, i.e. the request that produced it. */
function recordedDocuments(): RecordedDocument[] {
  const dir = 'nitro/evervault';
  const documents: Array<[string, Uint8Array]> = [
    ['beta valid', readVector(dir, 'valid-attestation-doc-bytes')],
    ['beta debug', readVector(dir, 'debug-mode-attestation-doc-bytes')],
    ['ga (debug)', Buffer.from(readVectorText(dir, 'valid-attestation-doc-base64'), 'base64')],
  ];
  return documents.map(([name, document]) => {
    const fields = parseAttestationFields(
      decode(parseCoseSign1(document, 'X').payload, STRICT_CBOR),
    );
    const request: { -readonly [K in keyof AttestationRequest]: Uint8Array } = {};
    if (fields.publicKey) request.publicKey = fields.publicKey;
    if (fields.userData) request.userData = fields.userData;
    if (fields.nonce) request.nonce = fields.nonce;
    return { name, document: new Uint8Array(document), request, timestampMs: fields.timestampMs };
  });
}

/**
 * A protocol-level NSM: decodes the request strictly, demands exactly the Attestation shape with
 * the expected bindings, and answers with a recorded document.
 */
function fakeNsm(expected: AttestationRequest, answer: Uint8Array) {
  const calls: string[] = [];
  const transport: NsmTransport = (devicePath, request) => {
    calls.push(devicePath);
    expect(request.length).toBeLessThanOrEqual(NSM_REQUEST_MAX_BYTES);
    const top = decode(request, STRICT_CBOR) as Map<string, Map<string, Uint8Array | null>>;
    expect([...top.keys()]).toEqual(['Attestation']);
    const body = top.get('Attestation')!;
    expect([...body.keys()]).toEqual(['user_data', 'nonce', 'public_key']);
    expect(body.get('user_data')).toEqual(expected.userData ?? null);
    expect(body.get('nonce')).toEqual(expected.nonce ?? null);
    expect(body.get('public_key')).toEqual(expected.publicKey ?? null);
    return attestationResponse(answer);
  };
  return { transport, calls };
}

describeWithVectors('nitro', 'Nitro provider against a fake NSM answering real documents', () => {
  const samples = recordedDocuments();

  it('covers every binding: public_key, user_data and nonce each present and absent', () => {
    const shapes = samples.map((s) => Object.keys(s.request).sort().join(','));
    expect(shapes).toEqual(['nonce', 'publicKey,userData', 'nonce,userData']);
  });

  for (const s of samples) {
    it(`${s.name}: the provider returns the document and the Nitro verifier accepts it`, async () => {
      const nsm = fakeNsm(s.request, s.document);
      const provider = new NitroAttestationProvider(notNsm, { transport: nsm.transport });
      const document = await provider.attest(s.request);
      expect(nsm.calls).toEqual([notNsm]);
      expect(hex(document)).toBe(hex(s.document));
      const verified = verifyNitroAttestation(document, {
        at: new Date(s.timestampMs),
        allowDebug: true,
        ...(s.request.publicKey ? { expectedPublicKey: s.request.publicKey } : {}),
        ...(s.request.userData ? { expectedUserData: s.request.userData } : {}),
        ...(s.request.nonce ? { expectedNonce: s.request.nonce } : {}),
      });
      expect(verified.kind).toBe('aws-nitro');
      expect(verified.timestamp.getTime()).toBe(s.timestampMs);
      expect(verified.userData).toEqual(s.request.userData ?? null);
      expect(verified.nonce).toEqual(s.request.nonce ?? null);
      expect(verified.publicKey).toEqual(s.request.publicKey ?? null);
    });
  }

  it('refuses a document that does not carry the requested bindings', async () => {
    const s = samples[0]!;
    const asked = { ...s.request, nonce: Uint8Array.of(9, 9, 9) };
    const provider = new NitroAttestationProvider(notNsm, {
      transport: fakeNsm(asked, s.document).transport,
    });
    await expect(provider.attest(asked)).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
      message: 'the NSM returned a document whose nonce is not the requested one',
    });
    const other = { ...s.request, userData: Uint8Array.of(1) };
    await expect(
      new NitroAttestationProvider(notNsm, {
        transport: fakeNsm(other, s.document).transport,
      }).attest(other),
    ).rejects.toThrow(/user_data is not the requested one/);
  });

  it('refuses a document that is not an attestation at all', () => {
    const nsm = fakeNsm({}, Uint8Array.of(0x84, 0x40, 0xa0, 0x40, 0x40));
    const err = vaultErrorOf(() => nsmAttest(nsm.transport, notNsm, {}));
    expect(err.code).toBe('ATTESTATION_UNAVAILABLE');
    expect(err.message).toMatch(/its document is not an attestation/);
  });
});

describe('Nitro provider failures', () => {
  it('keeps the absent-device error and never calls the device then', async () => {
    const nsm = fakeNsm({}, Uint8Array.of(1));
    const provider = new NitroAttestationProvider(join(scratch, 'no-nsm'), {
      transport: nsm.transport,
    });
    await expect(provider.attest({})).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
      status: 503,
      message: `Nitro attestation is not available outside a Nitro enclave (${join(scratch, 'no-nsm')} is absent)`,
    });
    expect(nsm.calls).toEqual([]);
  });

  it('refuses a bad request before looking for the device', async () => {
    const provider = new NitroAttestationProvider(join(scratch, 'no-nsm'));
    await expect(provider.attest({ nonce: new Uint8Array(513) })).rejects.toMatchObject({
      code: 'ATTESTATION_REQUEST_INVALID',
    });
  });

  it('reports NSM Error responses and transport failures as ATTESTATION_UNAVAILABLE', async () => {
    const refusing = new NitroAttestationProvider(notNsm, {
      transport: () => encode(new Map([['Error', 'InternalError']])),
    });
    await expect(refusing.attest({})).rejects.toThrow(
      'the NSM refused the attestation request: InternalError',
    );
    const failing = new NitroAttestationProvider(notNsm, {
      transport: () => {
        throw Object.assign(new Error('ioctl /dev/nsm: EIO (input/output error)'), { code: 'EIO' });
      },
    });
    await expect(failing.attest({})).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
      message: 'the NSM request failed: ioctl /dev/nsm: EIO (input/output error)',
    });
    const oversized = new NitroAttestationProvider(notNsm, {
      transport: () => new Uint8Array(NSM_RESPONSE_MAX_BYTES + 1),
    });
    await expect(oversized.attest({})).rejects.toThrow(/malformed response: 12289 bytes/);
  });

  it('says why when the addon cannot be loaded', () => {
    const missing = join(scratch, 'vigil_nsm.node');
    const { addon, status } = loadNsmAddon(missing);
    expect(addon).toBeUndefined();
    expect(status).toMatchObject({ available: false });
    expect(!status.available && status.reason).toMatch(
      new RegExp(`NSM driver addon \\(${missing}\\) is not loaded: .*Cannot find module`),
    );
  });
});

const built = loadNsmAddon();
if (!built.addon)
  console.warn(
    `[nsm] skipping the native addon tests: ${!built.status.available && built.status.reason}`,
  );
type NsmCall = (devicePath: unknown, request: unknown, ...rest: unknown[]) => Uint8Array;
const nsmCall = built.addon?.nsmCall as NsmCall | undefined;

function thrown(run: () => unknown): Error & { code?: string; errno?: number; syscall?: string } {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe.skipIf(!nsmCall || process.platform !== 'linux')('native nsmCall (the real addon)', () => {
  const call = nsmCall!;
  const request = encodeAttestationRequest({});

  it('a regular file and /dev/null answer the ioctl with ENOTTY, as clean JS errors', () => {
    for (const path of [notNsm, '/dev/null']) {
      const err = thrown(() => call(path, request));
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl', path });
      expect(err.message).toBe(
        `ioctl ${path}: ENOTTY (inappropriate ioctl for device (not an NSM device))`,
      );
    }
  });

  it('open failures carry their errno name', () => {
    expect(thrown(() => call(join(scratch, 'absent'), request))).toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(thrown(() => call(scratch, request))).toMatchObject({ code: 'EISDIR', syscall: 'open' });
  });

  it('bad arguments throw before any syscall (argument errors, not ENOENT)', () => {
    const absent = join(scratch, 'absent');
    const cases: Array<[unknown[], string, RegExp]> = [
      [[42, request], 'TypeError', /devicePath must be a string/],
      [[absent, [1, 2]], 'TypeError', /request must be a Uint8Array/],
      [[absent, new Uint16Array(4)], 'TypeError', /request must be a Uint8Array/],
      [[absent, new Uint8Array(NSM_REQUEST_MAX_BYTES + 1)], 'RangeError', /1\.\.4096 bytes/],
      [[absent, new Uint8Array(0)], 'RangeError', /1\.\.4096 bytes/],
      [['', request], 'RangeError', /devicePath must be 1\.\.4095/],
      [['x'.repeat(4096), request], 'RangeError', /devicePath must be 1\.\.4095/],
      [[`${absent}\0/dev/nsm`, request], 'RangeError', /NUL/],
      [[absent], 'TypeError', /exactly two arguments/],
      [[absent, request, 1], 'TypeError', /exactly two arguments/],
    ];
    for (const [args, type, message] of cases) {
      const err = thrown(() => call(...(args as [unknown, unknown])));
      expect(err.constructor.name, String(message)).toBe(type);
      expect(err.code).toBe('ERR_NSM_ARGUMENT');
      expect(err.message).toMatch(message);
    }
  });

  it('the provider turns the ENOTTY into ATTESTATION_UNAVAILABLE', async () => {
    await expect(new NitroAttestationProvider('/dev/null').attest({})).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
      status: 503,
      message: expect.stringMatching(/^the NSM request failed: ioctl \/dev\/null: ENOTTY/),
    });
  });
});

/**
 * A stand-in for drivers/misc/nsm.c loaded with LD_PRELOAD: it takes NSM_IOCTL_RAW on any
 * descriptor, copies the request out as the driver does (EMSGSIZE above 0x1000), records the
 * command and lengths it saw, and answers with a prepared response, writing back
 * min(buffer, answer) as the response length. Everything else goes to the real ioctl.
 */
const SHIM_SOURCE = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct raw { uint64_t req_addr, req_len, resp_addr, resp_len; };
int ioctl(int fd, unsigned long cmd, ...) {
  va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
  if (cmd != 0xC0200A00UL) {
    int (*real)(int, unsigned long, ...) = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real(fd, cmd, arg);
  }
  struct raw *m = (struct raw *)arg;
  char path[4096];
  snprintf(path, sizeof path, "%s/seen", getenv("NSM_SHIM_DIR"));
  FILE *log = fopen(path, "w");
  fprintf(log, "%lx %llu %llu\n", cmd, (unsigned long long)m->req_len, (unsigned long long)m->resp_len);
  fclose(log);
  if (m->req_len > 0x1000) { errno = EMSGSIZE; return -1; }
  snprintf(path, sizeof path, "%s/request", getenv("NSM_SHIM_DIR"));
  FILE *out = fopen(path, "w"); fwrite((void *)(uintptr_t)m->req_addr, 1, m->req_len, out); fclose(out);
  snprintf(path, sizeof path, "%s/response", getenv("NSM_SHIM_DIR"));
  FILE *in = fopen(path, "r");
  static unsigned char answer[0x3000];
  size_t n = fread(answer, 1, sizeof answer, in); fclose(in);
  if (n > m->resp_len) n = m->resp_len;
  memcpy((void *)(uintptr_t)m->resp_addr, answer, n);
  m->resp_len = n;
  return 0;
}
`;

/** The shim as a shared library, or undefined (with the reason printed) where it cannot be built. */
function buildShim(): string | undefined {
  if (!nsmCall || process.platform !== 'linux') return undefined;
  const source = join(scratch, 'nsm-shim.c');
  const library = join(scratch, 'nsm-shim.so');
  writeFileSync(source, SHIM_SOURCE);
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', library, source, '-ldl'], {
    encoding: 'utf8',
  });
  if (cc.status === 0) return library;
  console.warn(
    `[nsm] skipping the emulated-driver tests: cc failed (${cc.error?.message ?? cc.stderr})`,
  );
  return undefined;
}

const shim = buildShim();

describe.skipIf(shim === undefined)(
  'native nsmCall against an emulated NSM driver (LD_PRELOAD ioctl)',
  () => {
    function run(request: Uint8Array, response: Uint8Array) {
      const dir = mkdtempSync(join(scratch, 'shim-'));
      writeFileSync(join(dir, 'response'), response);
      const script =
        `const { nsmCall } = require(${JSON.stringify(NSM_ADDON_PATH)});` +
        `try { process.stdout.write(Buffer.from(nsmCall('/dev/null', Buffer.from(process.argv[1], 'hex'))).toString('hex')); }` +
        `catch (e) { process.stdout.write('error ' + e.code + ' ' + e.message); }`;
      const child = spawnSync(process.execPath, ['-e', script, hex(request)], {
        env: { ...process.env, LD_PRELOAD: shim, NSM_SHIM_DIR: dir },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(child.status, child.stderr).toBe(0);
      const seen = readFileSync(join(dir, 'seen'), 'utf8').trim().split(' ');
      const sent = readFileSync(join(dir, 'request'));
      return { stdout: child.stdout, seen, sent };
    }

    it('issues NSM_IOCTL_RAW with the request and a 0x3000 buffer, returns exactly the answer', () => {
      const request = encodeAttestationRequest({ nonce: Uint8Array.of(1, 2, 3) });
      const document = Uint8Array.from({ length: 4700 }, (_, i) => i & 0xff);
      const response = attestationResponse(document);
      const result = run(request, response);
      expect(result.seen).toEqual(['c0200a00', String(request.length), String(0x3000)]);
      expect(hex(result.sent)).toBe(hex(request));
      expect(result.stdout).toBe(hex(response));
      expect(decodeAttestationResponse(Buffer.from(result.stdout, 'hex'))).toEqual(document);
    });

    it('an answer longer than the buffer arrives truncated and is refused by the decoder', () => {
      const response = attestationResponse(new Uint8Array(NSM_RESPONSE_MAX_BYTES));
      const result = run(encodeAttestationRequest({}), response);
      const received = Buffer.from(result.stdout, 'hex');
      expect(received.length).toBe(NSM_RESPONSE_MAX_BYTES);
      expect(() => decodeAttestationResponse(received)).toThrow(/not valid CBOR/);
    });
  },
);
