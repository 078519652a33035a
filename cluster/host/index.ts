// The host agent (an untrusted store outside the enclave) and the node's checked store on it.
export { HostClient, type HostClientOptions } from './client.ts';
export { bumpHostCounter, HostMeta, listHostStores, withHostMeta } from './meta.ts';
export { HostError, type HostErrorCode } from './protocol.ts';
export { HostAgent, type HostAgentOptions } from './server.ts';
export { formatHostAddress, type HostAddress, parseHostAddress } from './socket.ts';
export { HostKvStore, type HostStoreOptions } from './store.ts';
