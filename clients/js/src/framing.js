/**
 * NDJSON framing, sans I/O: chunks of a stream in, complete lines out, whatever the chunk boundaries.
 *
 * A chunk may end in the middle of a line or of a multi-byte UTF-8 character; both are held until the
 * rest arrives. As on the backend's side (docs/protocol.md, "Framing"): a `\r` before the `\n` is
 * dropped, blank lines are skipped, and a last line without a newline is still read at the end.
 */
export class LineFramer {
  #decoder = new TextDecoder('utf-8');
  #partial = '';

  /**
   * Feed one chunk of the stream (bytes, e.g. a Node `Buffer`); get the lines it completed.
   * @param {Uint8Array} chunk
   * @returns {string[]}
   */
  feed(chunk) {
    const parts = this.#decoder.decode(chunk, { stream: true }).split('\n');
    if (parts.length === 1) {
      this.#partial += parts[0];
      return [];
    }
    parts[0] = this.#partial + parts[0];
    this.#partial = /** @type {string} */ (parts.pop());
    return complete(parts);
  }

  /**
   * The stream ended: the last line, if it had no newline.
   * @returns {string[]}
   */
  end() {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = '';
    return complete([rest]);
  }
}

/** @param {string[]} lines */
function complete(lines) {
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)).filter((line) => line.trim() !== '');
}
