/**
 * A cluster node's configuration (`vigil cluster node`, docs/configuration.md) from flags and
 * environment variables, validated in full at start. The sealer, operator key and attestation
 * switch are read exactly as `vigil vault start` reads them; the rest says who this node is and
 * where its peers are.
 */
import { join, resolve } from 'node:path';
import { type HostAddress, parseHostAddress } from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import {
  readCorsOrigins,
  readInsecureDevAttestation,
  readOperatorKey,
  readTlsAndTransport,
  readVaultSealer,
  type TransportConfig,
  VAULT_ENV,
  type VaultConfig,
} from '../node/config.ts';
import { ConfigReader, type RawFlags } from '../node/config-reader.ts';

export const CLUSTER_NODE_ENV = {
  ...VAULT_ENV,
  slot: 'VIGIL_SLOT',
  clusterId: 'VIGIL_CLUSTER_ID',
  raftPort: 'VIGIL_RAFT_PORT',
  advertiseHost: 'VIGIL_ADVERTISE_HOST',
  peers: 'VIGIL_PEERS',
  expectedPcrs: 'VIGIL_EXPECTED_PCRS',
  found: 'VIGIL_FOUND',
  boot: 'VIGIL_BOOT',
  storage: 'VIGIL_STORAGE',
  kmsCredentials: 'VIGIL_KMS_CREDENTIALS',
  recover: 'VIGIL_RECOVER',
} as const;

/** Where the node's Raft directory lives: a local LevelDB, or with a host agent (`vigil host`). */
export type NodeStorageConfig = { kind: 'local' } | { kind: 'host'; address: HostAddress };

/** Another node, by its slot name and the address of its HTTP API. */
export interface NodeAddress {
  slot: string;
  host: string;
  port: number;
}

export type NodeAttestationConfig =
  /** Real enclaves: documents verified to the pinned AWS root, PCRs of a trusted image. */
  | { kind: 'nitro'; images: Record<number, string>[] }
  /** Plain processes sharing `<data-dir>/dev-attestation.key`; proves nothing. */
  | { kind: 'insecure-dev'; images: Record<number, string>[] | undefined };

export interface ClusterNodeConfig {
  /** The node's data lives in `<dataDir>/<slot>/`. */
  dataDir: string;
  slot: string;
  clusterId: string;
  /** Listen address of both the HTTP API and the Raft peer links. */
  host: string;
  /** HTTP port (0: any free port, only where siblings find each other through `dataDir`). */
  port: number;
  /** Raft peer-link port (0: any; it is advertised in the node's attested record). */
  raftPort: number;
  /** The address other nodes reach this one at. */
  advertiseHost: string;
  operatorKey: Uint8Array | undefined;
  sealer: VaultConfig['sealer'];
  attestation: NodeAttestationConfig;
  /** Origins whose web pages may call the browser-facing routes (vault/http/cors.ts). */
  corsOrigins: string[];
  /** The other nodes' HTTP addresses; absent: siblings under the same `dataDir` (local cluster). */
  peers: NodeAddress[] | undefined;
  /** Found a new cluster with these slots (every founder must use the same boot token). */
  found: { slots: string[]; boot: string } | undefined;
  storage: NodeStorageConfig;
  /** Whose credentials sign KMS requests: the SDK's default chain, or the host agent's. */
  kmsCredentials: 'default' | 'host';
  /**
   * Rebuild this slot's vault from its stores (its host agent's, or its disk's) after a
   * whole-cluster stop, report it and exit, instead of running (slot-recovery.ts).
   */
  recover: boolean;
  /** Serve attested HTTPS (plain HTTP only with the insecure dev attestation). */
  tls: boolean;
  transport: TransportConfig;
}

function readStorage(text: string, problems: string[]): NodeStorageConfig {
  if (text === 'local') return { kind: 'local' };
  if (text.startsWith('host:')) {
    try {
      return { kind: 'host', address: parseHostAddress(text.slice(5)) };
    } catch (e) {
      problems.push(`--storage: ${(e as Error).message}`);
      return { kind: 'local' };
    }
  }
  problems.push('--storage must be local or host:<unix:/path or host:port of vigil host>');
  return { kind: 'local' };
}

const SLOT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const CLUSTER_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$/;
const PCR_HEX = /^[0-9a-f]{96}$/;
const MAX_PEERS = 15;
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** `slot@host:port,...`; IPv6 hosts in brackets. */
export function parsePeers(text: string, problems: string[]): NodeAddress[] {
  const peers: NodeAddress[] = [];
  const items = text.split(',').map((s) => s.trim());
  if (items.length > MAX_PEERS) problems.push(`--peers: at most ${MAX_PEERS} nodes`);
  for (const item of items.slice(0, MAX_PEERS)) {
    const m = /^([^@]+)@(.+):(\d{1,5})$/.exec(item);
    if (!m) {
      problems.push(`--peers: "${item}" is not slot@host:port`);
      continue;
    }
    const [, slot, host, portText] = m as unknown as [string, string, string, string];
    const port = Number(portText);
    if (!SLOT.test(slot)) problems.push(`--peers: bad slot name "${slot}"`);
    else if (!HOST.test(host)) problems.push(`--peers: bad host "${host}" for ${slot}`);
    else if (port < 1 || port > 65_535) problems.push(`--peers: bad port ${port} for ${slot}`);
    else if (peers.some((p) => p.slot === slot)) problems.push(`--peers: ${slot} is listed twice`);
    else if (peers.some((p) => p.host === host && p.port === port)) {
      problems.push(`--peers: ${host}:${port} is listed twice`);
    } else peers.push({ slot, host, port });
  }
  return peers;
}

const MAX_IMAGES = 4;

/**
 * Trusted images, `;` between images: `0=<hex>,1=<hex>;0=<hex>,...`. Each PCR is a SHA-384
 * measurement, 96 lowercase hex digits.
 */
export function parseImages(text: string, problems: string[]): Record<number, string>[] {
  const images = text.split(';');
  if (images.length > MAX_IMAGES) problems.push(`--expected-pcrs: at most ${MAX_IMAGES} images`);
  return images.slice(0, MAX_IMAGES).map((image) => parsePcrs(image, problems));
}

function parsePcrs(text: string, problems: string[]): Record<number, string> {
  const pcrs: Record<number, string> = {};
  for (const item of text.split(',').map((s) => s.trim())) {
    const m = /^(\d{1,2})=(.*)$/.exec(item);
    const index = Number(m?.[1]);
    if (!m || index > 31) {
      problems.push(`--expected-pcrs: "${item.slice(0, 20)}" is not <index 0..31>=<hex>`);
    } else if (!PCR_HEX.test(m[2]!)) {
      problems.push(`--expected-pcrs: PCR${index} must be 96 lowercase hex digits (SHA-384)`);
    } else if (index in pcrs) {
      problems.push(`--expected-pcrs: PCR${index} is given twice`);
    } else pcrs[index] = m[2]!;
  }
  return pcrs;
}

export function parseClusterNodeConfig(flags: RawFlags, env: NodeJS.ProcessEnv): ClusterNodeConfig {
  const reader = new ConfigReader(flags, env, CLUSTER_NODE_ENV);
  const { problems } = reader;
  const pick = reader.pick.bind(reader);

  const dataDir = resolve(pick('dataDir', 'dataDir') ?? join('data', 'cluster'));
  const slot = pick('slot', 'slot') ?? '';
  if (!SLOT.test(slot)) problems.push('--slot must name this node: letters, digits, . _ -');
  const clusterId = pick('clusterId', 'clusterId') ?? '';
  if (!CLUSTER_ID.test(clusterId))
    problems.push('--cluster-id must be 1..64 letters, digits, . _ - (the same on every node)');
  const host = pick('host', 'host') ?? '127.0.0.1';
  if (!HOST.test(host) && !WILDCARD_HOSTS.has(host)) problems.push(`--host: bad host "${host}"`);
  const before = problems.length;
  const port = reader.integer('--port', pick('port', 'port') ?? '0', 0, 65_535);
  const portValid = problems.length === before;
  const raftPort = reader.integer('--raft-port', pick('raftPort', 'raftPort') ?? '0', 0, 65_535);
  const advertiseHost = pick('advertiseHost', 'advertiseHost') ?? host;
  if (WILDCARD_HOSTS.has(advertiseHost)) {
    problems.push('--advertise-host is needed when --host is a wildcard address');
  } else if (!HOST.test(advertiseHost)) {
    problems.push(`--advertise-host: bad host "${advertiseHost}"`);
  }

  const operatorKey = readOperatorKey(reader);
  const sealer = readVaultSealer(reader, join(dataDir, slot));

  const insecure = readInsecureDevAttestation(reader, flags, env);
  const corsOrigins = readCorsOrigins(reader);
  const pcrText = pick('expectedPcrs', 'expectedPcrs');
  const images = pcrText === undefined ? undefined : parseImages(pcrText, problems);
  let attestation: NodeAttestationConfig;
  if (insecure) {
    attestation = { kind: 'insecure-dev', images };
  } else {
    if (images === undefined || images.some((pcrs) => pcrs[0] === undefined)) {
      problems.push(
        'nitro attestation needs a PCR policy: --expected-pcrs with at least PCR0 (the enclave image) for each image',
      );
    }
    attestation = { kind: 'nitro', images: images ?? [] };
  }
  const { tls, transport } = readTlsAndTransport(reader, insecure);
  if (transport.kind === 'vsock' && (port === 0 || raftPort === 0)) {
    problems.push(
      '--port and --raft-port must be fixed with --transport vsock (the parent instance forwards them)',
    );
  }

  const peersText = pick('peers', 'peers');
  const peers = peersText === undefined ? undefined : parsePeers(peersText, problems);
  if (peers !== undefined && portValid && port === 0) {
    problems.push('--port must be fixed when --peers is given (the peers dial it)');
  }

  let found: ClusterNodeConfig['found'];
  const foundText = pick('found', 'found');
  if (foundText !== undefined) {
    const slots = foundText.split(',').map((s) => s.trim());
    for (const s of slots) {
      if (!SLOT.test(s)) problems.push(`--found: bad slot name "${s}"`);
      else if (peers && s !== slot && !peers.some((p) => p.slot === s)) {
        problems.push(`--found: ${s} is neither this node nor in --peers`);
      }
    }
    if (!slots.includes(slot)) problems.push(`--found must include this node's slot (${slot})`);
    if (new Set(slots).size !== slots.length) problems.push('--found names a slot twice');
    found = { slots, boot: pick('boot', 'boot') ?? '' };
  }

  const storage = readStorage(pick('storage', 'storage') ?? 'local', problems);
  const kmsCredentials = pick('kmsCredentials', 'kmsCredentials') ?? 'default';
  if (kmsCredentials !== 'default' && kmsCredentials !== 'host') {
    problems.push('--kms-credentials must be default or host');
  } else if (kmsCredentials === 'host' && (storage.kind !== 'host' || sealer.kind !== 'aws-kms')) {
    problems.push(
      '--kms-credentials host needs --sealer aws-kms and --storage host:<address> (the agent that passes them)',
    );
  }

  const recoverEnv = env[CLUSTER_NODE_ENV.recover];
  if (recoverEnv !== undefined && recoverEnv !== '0' && recoverEnv !== '1') {
    problems.push(`${CLUSTER_NODE_ENV.recover} must be 0 or 1`);
  }
  const recover = flags.recover === true || recoverEnv === '1';
  if (recover && found !== undefined) problems.push('--recover and --found are separate starts');

  if (problems.length > 0) {
    throw new VaultError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, 500);
  }
  return {
    recover,
    storage,
    kmsCredentials: kmsCredentials === 'host' ? 'host' : 'default',
    dataDir,
    slot,
    clusterId,
    host,
    port,
    raftPort,
    advertiseHost,
    operatorKey,
    sealer,
    attestation,
    peers,
    found,
    tls,
    transport,
    corsOrigins,
  };
}
