/** Receiving addresses of a wallet key Q: derived offline from public data only. */
import { NETWORK, p2tr, p2wpkh, TEST_NETWORK } from '@scure/btc-signer';
import { decodePoint, type Scheme, toHex } from '../vault/portable.ts';
import { ethereumAddress } from './keys.ts';

export interface WalletAddresses {
  publicKey: string;
  /** ECDSA schemes: P2WPKH; musig2: BIP-86 key-path P2TR of the aggregate key. */
  bitcoin: string;
  bitcoinTestnet: string;
  /** ECDSA schemes only (Ethereum signs with ECDSA). */
  ethereum: string | null;
}

export function walletAddresses(scheme: Scheme, q: Uint8Array): WalletAddresses {
  decodePoint('q', q);
  if (scheme === 'musig2') {
    const xOnly = q.subarray(1);
    return {
      publicKey: toHex(q),
      bitcoin: p2tr(xOnly, undefined, NETWORK).address as string,
      bitcoinTestnet: p2tr(xOnly, undefined, TEST_NETWORK).address as string,
      ethereum: null,
    };
  }
  return {
    publicKey: toHex(q),
    bitcoin: p2wpkh(q, NETWORK).address as string,
    bitcoinTestnet: p2wpkh(q, TEST_NETWORK).address as string,
    ethereum: ethereumAddress(q),
  };
}
