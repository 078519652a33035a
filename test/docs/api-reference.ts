/**
 * The API reference in docs/api/ is generated from the OpenAPI documents the servers themselves
 * serve at /docs/json: `npm run docs:api` rewrites it, and a test fails when it is stale.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { parseCosignerConfig, startCosignerServer } from '../../cosigner/index.ts';
import {
  attestedTlsFor,
  KeyFileSealer,
  parseVaultConfig,
  startVaultServer,
  toHex,
} from '../../vault/index.ts';

interface OpenApi {
  info: { title: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
}
interface Operation {
  summary?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string }>;
}
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  description?: string;
  minimum?: number;
  maxLength?: number;
}

function typeOf(s: Schema | undefined): string {
  if (!s) return '';
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.join('\\|') : (s.type ?? 'any');
  if (t === 'array') return `array of ${typeOf(s.items)}`;
  return t;
}

function fields(s: Schema | undefined, prefix = ''): string[] {
  if (!s?.properties) return [];
  const rows: string[] = [];
  for (const [name, p] of Object.entries(s.properties)) {
    const note = [p.description, p.pattern && !p.description ? `pattern \`${p.pattern}\`` : '']
      .filter(Boolean)
      .join('; ');
    const req = s.required?.includes(name) ? 'yes' : '';
    rows.push(`| \`${prefix}${name}\` | ${typeOf(p)} | ${req} | ${note} |`);
    rows.push(...fields(p, `${prefix}${name}.`));
    if (p.items) rows.push(...fields(p.items, `${prefix}${name}[].`));
  }
  return rows;
}

export function renderOpenApi(doc: OpenApi): string {
  const out = [
    `# ${doc.info.title}`,
    '',
    "_Generated from the server's OpenAPI document (`GET /docs/json`) by `npm run docs:api`; do not edit._",
    '',
  ];
  const paths = Object.keys(doc.paths).sort();
  for (const path of paths) {
    for (const [method, op] of Object.entries(doc.paths[path]!)) {
      out.push(`## ${method.toUpperCase()} \`${path}\``, '');
      if (op.summary) out.push(op.summary, '');
      const params = op.parameters ?? [];
      if (params.length > 0) {
        out.push('| parameter | in | type | required |', '|---|---|---|---|');
        for (const p of params) {
          out.push(
            `| \`${p.name}\` | ${p.in} | ${typeOf(p.schema)} | ${p.required ? 'yes' : ''} |`,
          );
        }
        out.push('');
      }
      const body = op.requestBody?.content?.['application/json']?.schema;
      const rows = fields(body);
      if (rows.length > 0) {
        out.push(
          'Request body (JSON):',
          '',
          '| field | type | required | notes |',
          '|---|---|---|---|',
          ...rows,
          '',
        );
      }
      const codes = Object.keys(op.responses ?? {}).sort();
      if (codes.length > 0) out.push(`Responses: ${codes.join(', ')}.`, '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Starts a throwaway vault node and cosigner and returns their OpenAPI documents. */
export async function fetchApiDocuments(): Promise<{ vault: OpenApi; cosigner: OpenApi }> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-api-docs-'));
  const quiet = { VIGIL_LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv;
  const vault = await startVaultServer(
    parseVaultConfig(
      {
        dataDir: join(dir, 'vault'),
        port: '0',
        insecureDevAttestation: true,
        tls: 'on', // so that the TLS attestation route is documented too
        operatorKey: Buffer.from(schnorr.getPublicKey(schnorr.utils.randomSecretKey())).toString(
          'hex',
        ),
      },
      quiet,
    ),
  );
  try {
    const devKey = ed25519.getPublicKey(
      await new KeyFileSealer({ path: join(dir, 'vault', 'dev-attestation.key') }).storageKey(),
    );
    const cosigner = await startCosignerServer(
      parseCosignerConfig(
        {
          dataDir: join(dir, 'cosigner'),
          port: '0',
          vault: vault.url,
          tenant: 'docs',
          insecureDevAttestation: true,
          devAttestationKey: Buffer.from(devKey).toString('hex'),
          poolSize: '0',
          pingInterval: '3600',
        },
        quiet,
      ),
    );
    const vaultTls = attestedTlsFor({ kind: 'insecure-dev', devKeys: [toHex(devKey)] }, () => {});
    try {
      const get = async (url: string, f: typeof fetch = fetch) =>
        (await (await f(`${url}/docs/json`)).json()) as OpenApi;
      return { vault: await get(vault.url, vaultTls.fetch), cosigner: await get(cosigner.url) };
    } finally {
      await vaultTls.close();
      await cosigner.close();
    }
  } finally {
    await vault.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const API_DOCS_DIR = resolve(import.meta.dirname, '..', '..', 'docs', 'api');

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const docs = await fetchApiDocuments();
  await writeFile(join(API_DOCS_DIR, 'vault.md'), renderOpenApi(docs.vault));
  await writeFile(join(API_DOCS_DIR, 'cosigner.md'), renderOpenApi(docs.cosigner));
  console.log(`wrote ${API_DOCS_DIR}/vault.md and cosigner.md`);
  process.exit(0);
}
