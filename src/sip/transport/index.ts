export { endpointKey, isReliable, viaTransport, type Endpoint, type TransportProtocol } from './endpoint.ts';
export { TransportError } from './transport-error.ts';
export type { SendErrorHandler, SipTransport, TransportReceiver } from './transport.ts';
export { responseDestination, stampReceived } from './response-destination.ts';
export { TransportLayer, type TransportLayerOptions } from './transport-layer.ts';
export { MemoryNetwork, MemoryTransport, type SentMessage } from './memory-transport.ts';
