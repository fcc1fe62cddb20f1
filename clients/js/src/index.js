/**
 * deskbridge-client: the deskbridge protocol for browsers, Node and Electron.
 *
 * This entry point is browser-safe (WebSocket, fetch). The stdio door, which spawns the backend, is
 * `deskbridge-client/stdio` (Node and Electron's main process only).
 */
export { Backoff } from './backoff.js';
export { Client } from './client.js';
export * from './errors.js';
export { LineFramer } from './framing.js';
export { Operation } from './operation.js';
export { WebClient } from './web.js';
