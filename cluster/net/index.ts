export { AEAD_NONCE_BYTES, open as openAead, sealInto as sealAeadInto } from './aead.ts';
export { encodeFrame, FrameDecoder, FrameTooLarge } from './framing.ts';
export { keyPairFromPrivate, NoiseError, type StaticKeyPair, XXHandshake } from './noise.ts';
export {
  type PeerAddress,
  type PeerLinkStats,
  PeerNetwork,
  type PeerNetworkOptions,
} from './peer-network.ts';
export { MAX_INTRODUCTION_BYTES } from './secure-socket.ts';
export {
  bareHost,
  type Endpoint,
  type ListenTarget,
  relaySocketName,
  type ServiceName,
  type SocketTransport,
  tcpTransport,
  vsockTransport,
} from './transport.ts';
