// Loaded first (`import` or `node --import`): the runtime of Node before 22, and of the Electron main
// processes built on it, which have no global WebSocket. The client must then use the `ws` package.
delete globalThis.WebSocket;
