// Compiled by test/types.test.mjs with `tsc --strict --noEmit`: what the generated types promise a TypeScript
// front end. Each `@ts-expect-error` line must fail to compile; if one compiles, the types got looser.
import { WebClient } from '../src/index.js';

const client = new WebClient('http://127.0.0.1:8001', { token: 'token' });

export async function typed(): Promise<void> {
  const pong = await client.call('PING');
  const time: number = pong.time;

  const count = client.startOperation('COUNT', { to: 3, interval: 0.01 }, {
    onProgress: (payload) => {
      const current: number | undefined = payload.current;
      const status: 'in_progress' | 'completed' | 'failed' | 'cancelled' = payload.status;
      void [current, status];
    },
    signal: AbortSignal.timeout(5000),
  });
  const started: string = (await count.started).operation_id;
  const counted: number = (await count.result()).counted;
  void [time, started, counted];

  const batch = client.startOperation('BATCH_DOWNLOAD', { clips: [{ id: 'clip' }], output_dir: '/music' }, {
    onProgress: (payload) => {
      const clipStatus: 'downloading' | 'preparing' | 'downloaded' | 'skipped' | 'failed' | undefined = payload.clip_status;
      const remaining: number | null | undefined = payload.allowance?.remaining;
      void [clipStatus, remaining, payload.bytes];
    },
  });
  const batchResult = await batch.result();
  const firstFile: 'downloaded' | 'skipped' | 'failed' | undefined = batchResult.files[0]?.status;
  const authorized: number = batchResult.allowance.authorized;
  const clip = await client.startOperation('DOWNLOAD_CLIP', { clip: { id: 'clip' }, output_dir: '/music' }, {
    onProgress: (payload) => {
      const stage: 'preparing' | 'downloading' | undefined = payload.stage;
      void stage;
    },
  }).result();
  void [firstFile, authorized, clip.allowance.needed, clip.file_name];

  // @ts-expect-error: a payload field that does not exist
  await client.call('SLEEP', { secondz: 1 });
  // @ts-expect-error: a field of the wrong type
  await client.call('SLEEP', { seconds: 'one' });
  // @ts-expect-error: PING's data has no such field
  void pong.pang;
  // @ts-expect-error: COUNT's result has no such field
  void (await count.result()).count;
  // @ts-expect-error: BATCH_DOWNLOAD's result has no such field
  void batchResult.allowances;
  // @ts-expect-error: PING is not an operation
  client.startOperation('PING');
  // @ts-expect-error: not a command
  await client.call('NO_SUCH_COMMAND');
}
