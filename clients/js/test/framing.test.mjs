// Line framing: the seed's client split each chunk on '\n' and lost any message cut in two.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineFramer } from '../src/framing.js';

const messages = [
  { id: '1', type: 'ECHO_RESPONSE', success: true, data: { text: 'café, 日本語, 🎵' } },
  { id: 'progress-event', type: 'COUNT_PROGRESS', payload: { operation_id: 'a', progress: 50 }, seq: 7 },
  { id: '2', type: 'ERROR_RESPONSE', success: false, error: 'nope', error_code: 'UNKNOWN_COMMAND' },
];
// CRLF on one line, blank lines between, and no newline after the last line.
const stream = new TextEncoder().encode(
  `${JSON.stringify(messages[0])}\r\n\n${JSON.stringify(messages[1])}\n \n${JSON.stringify(messages[2])}`,
);

/** Feed `bytes` cut at `cuts`; every line the framer gives, parsed. */
function frame(bytes, cuts) {
  const framer = new LineFramer();
  const lines = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    lines.push(...framer.feed(bytes.subarray(start, cut)));
    start = cut;
  }
  return [...lines, ...framer.end()].map((line) => JSON.parse(line));
}

test('messages fed one byte at a time come out whole, multi-byte characters included', () => {
  const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(frame(stream, everyByte), messages);
});

test('messages come out whole whatever the chunk boundaries', () => {
  for (let round = 0; round < 500; round++) {
    const cuts = Array.from({ length: 1 + (round % 12) }, () => Math.floor(Math.random() * stream.length)).sort((a, b) => a - b);
    assert.deepEqual(frame(stream, cuts), messages, `cut at ${cuts}`);
  }
});

test('a chunk holding several lines gives them all, in order', () => {
  assert.deepEqual(frame(stream, []), messages);
});

test('a line is given only once its newline has arrived, or the stream has ended', () => {
  const framer = new LineFramer();
  assert.deepEqual(framer.feed(new TextEncoder().encode('{"a":')), []);
  assert.deepEqual(framer.feed(new TextEncoder().encode('1}\n{"b"')), ['{"a":1}']);
  assert.deepEqual(framer.feed(new TextEncoder().encode(':2}')), []);
  assert.deepEqual(framer.end(), ['{"b":2}']);
  assert.deepEqual(framer.end(), []);
});
