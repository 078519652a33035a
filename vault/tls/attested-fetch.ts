/**
 * fetch for a vault node's HTTPS API, trusting its certificate through attestation instead of a
 * CA. Before the first request to an origin it asks `GET /v1/attestation/tls` with a fresh nonce
 * on a connection of its own, and pins the key that connection's certificate carries only if the
 * document verifies (the caller's verifier: pinned AWS root and PCR policy, or the dev key) and
 * its user_data binds that very key. Every later connection to the origin must present the pinned
 * key or is closed before a byte is sent. A node that restarts has a new key: the pin is dropped
 * and the attestation checked again, once per request.
 *
 * A refusal surfaces as fetch's own network failure (TypeError "fetch failed") whose cause is a
 * VaultError `TLS_NOT_ATTESTED` naming the node, so callers that skip unreachable nodes skip it.
 */
import { randomBytes } from 'node:crypto';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
// undici at exactly the version Node 20.20 bundles for its fetch: importing it installs its
// Agent as fetch's global dispatcher when none is set yet, so any other version would change
// how every plain fetch in the process behaves.
import { Agent, type buildConnector, fetch as undiciFetch } from 'undici';
import { type SocketTransport, tcpTransport } from '../../cluster/index.ts';
import type { AttestationVerifier } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import { bytesEqual, toHex } from '../protocol/index.ts';
import { tlsKeyBinding } from './certificate.ts';

export type Fetch = typeof fetch;

export interface AttestedFetchOptions {
  /** Judges the node's document: Nitro with the PCR policy, or the insecure dev verifier. */
  verifier: AttestationVerifier;
  /** How sockets are opened (default TCP; a node in an enclave passes its vsock transport). */
  sockets?: SocketTransport;
  /** Plain http:// URLs: allowed only with the insecure dev attestation. */
  allowPlainHttp?: boolean;
  /** Max age of the TLS attestation document (default 5 minutes). */
  maxAgeMs?: number;
}

const MAX_ATTESTATION_BYTES = 64 * 1024;

type Check = (spki: Uint8Array | undefined, origin: string) => Error | undefined;

const portOf = (protocol: string, port: string | number) =>
  Number(port) || (protocol === 'https:' ? 443 : 80);

function originOf(protocol: string, hostname: string, port: string | number): string {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return `${protocol}//${host.includes(':') ? `[${host}]` : host}:${portOf(protocol, port)}`;
}

function refusal(origin: string, why: string): TypeError {
  const cause = new VaultError('TLS_NOT_ATTESTED', `${origin}: ${why}`, 502);
  return new TypeError('fetch failed', { cause });
}

/** undici's connector, opening sockets through the transport seam and checking the TLS key. */
function connector(sockets: SocketTransport, check: Check): buildConnector.connector {
  return (opts, callback) => {
    let done = false;
    const once = (err: Error | null, socket: TLSSocket | null) => {
      if (done) return;
      done = true;
      if (err) callback(err, null);
      else callback(null, socket as TLSSocket);
    };
    const origin = originOf(opts.protocol, opts.hostname, opts.port);
    const raw = sockets.connect({ host: opts.hostname, port: portOf(opts.protocol, opts.port) });
    if (opts.protocol !== 'https:') {
      raw.once('connect', () => once(null, raw as unknown as TLSSocket));
      raw.once('error', (e) => once(e, null));
      return raw;
    }
    const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = tlsConnect({
      socket: raw,
      ...(/^[0-9.]+$|:/.test(host) ? {} : { servername: host }),
      // No CA vouches for a node: its key is checked against the attested one just below.
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerX509Certificate();
      const spki = cert
        ? new Uint8Array(cert.publicKey.export({ type: 'spki', format: 'der' }))
        : undefined;
      const err = check(spki, origin);
      if (err) {
        socket.destroy();
        once(err, null);
      } else once(null, socket);
    });
    socket.once('error', (e) => once(e, null));
    return socket;
  };
}

export class AttestedTls {
  readonly #o: AttestedFetchOptions;
  readonly #sockets: SocketTransport;
  readonly #pins = new Map<string, Uint8Array>();
  readonly #agent: Agent;

  constructor(o: AttestedFetchOptions) {
    this.#o = o;
    this.#sockets = o.sockets ?? tcpTransport();
    this.#agent = new Agent({
      connect: connector(this.#sockets, (spki, origin) => {
        if (!origin.startsWith('https:')) return undefined;
        const pinned = this.#pins.get(origin);
        if (!pinned) return refusal(origin, 'no attested TLS key is pinned for this node');
        if (spki && bytesEqual(spki, pinned)) return undefined;
        this.#pins.delete(origin);
        return refusal(origin, 'its TLS certificate is not the attested one');
      }),
    });
  }

  /** The pinned key of an origin (`https://host:port`), if any. */
  pinned(origin: string): Uint8Array | undefined {
    const u = new URL(origin);
    return this.#pins.get(originOf(u.protocol, u.hostname, u.port));
  }

  readonly fetch: Fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol === 'http:' && !this.#o.allowPlainHttp) {
      throw refusal(url.origin, 'plain HTTP is refused: an attested node serves https://');
    }
    const origin = originOf(url.protocol, url.hostname, url.port);
    const send = () =>
      undiciFetch(input as string, {
        ...(init as object),
        dispatcher: this.#agent,
      }) as unknown as Promise<Response>;
    if (url.protocol === 'http:') return send();
    if (!this.#pins.has(origin)) await this.#attest(origin, init?.signal ?? undefined);
    try {
      return await send();
    } catch (e) {
      // a node restarted since it was pinned serves a new key: attest it again, once
      if (this.#pins.has(origin)) throw e;
      await this.#attest(origin, init?.signal ?? undefined);
      return send();
    }
  };

  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** Asks the node to attest the key it serves, on a connection that records that key. */
  async #attest(origin: string, signal: AbortSignal | undefined): Promise<void> {
    const seen: Uint8Array[] = [];
    const probe = new Agent({
      connections: 1,
      pipelining: 1,
      connect: connector(this.#sockets, (spki) => {
        if (spki) seen.push(spki);
        return undefined;
      }),
    });
    const nonce = randomBytes(32);
    let body: { document?: unknown };
    try {
      const res = await undiciFetch(`${origin}/v1/attestation/tls?nonce=${toHex(nonce)}`, {
        dispatcher: probe,
        signal: signal ?? AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok || text.length > MAX_ATTESTATION_BYTES) {
        throw refusal(origin, `GET /v1/attestation/tls answered ${res.status}`);
      }
      body = JSON.parse(text) as { document?: unknown };
    } catch (e) {
      if (e instanceof TypeError || (e as Error).name === 'TimeoutError') throw e;
      throw refusal(origin, `no TLS attestation: ${(e as Error).message}`);
    } finally {
      await probe.close();
    }
    const key = seen[0];
    if (!key || seen.some((k) => !bytesEqual(k, key))) {
      throw refusal(origin, 'the TLS key changed during its attestation');
    }
    if (typeof body.document !== 'string') throw refusal(origin, 'no attestation document');
    try {
      this.#o.verifier.verify(new Uint8Array(Buffer.from(body.document, 'base64')), {
        expectedNonce: nonce,
        expectedUserData: tlsKeyBinding(key),
        maxAgeMs: this.#o.maxAgeMs ?? 5 * 60_000,
      });
    } catch (e) {
      const why = e instanceof VaultError ? `${e.code}: ${e.message}` : String(e);
      throw refusal(origin, `its TLS certificate is not the attested one (${why})`);
    }
    this.#pins.set(origin, key);
  }
}
