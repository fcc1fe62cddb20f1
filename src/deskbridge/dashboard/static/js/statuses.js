// An operation's terminal statuses, as the protocol defines them once (deskbridge.protocol.TERMINAL_STATUSES).
export const FINISHED = new Set(["completed", "failed", "cancelled"]);
