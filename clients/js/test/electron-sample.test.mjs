// The README's Electron sample, as a user copies it: taken from README.md (so this fails when the README
// drifts), run in Node with a stand-in `electron` module (test/electron/) and the real client, spawning the
// real backend. It must quit cleanly: the backend stopped and gone before app.quit(), and app.quit() once.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DESKBRIDGE, tempDir, until } from './support.mjs';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const HEADING = '## Electron: the backend over stdio, in the main process';

/** The first ```js block under the Electron heading. */
function electronSample() {
  const text = readFileSync(README, 'utf8');
  const at = text.indexOf(HEADING);
  assert.notEqual(at, -1, `README.md has no "${HEADING}" section`);
  const block = /```js\n([\s\S]*?)\n```/.exec(text.slice(at));
  assert.ok(block, `no \`\`\`js block under "${HEADING}"`);
  return block[1];
}

/**
 * An app folder as npm would leave it: main.mjs (the sample), node_modules/electron (the stand-in) and
 * node_modules/deskbridge-client (this package). Node resolves the links to their real paths, so the test
 * and the sample share one stand-in `electron`.
 */
function appFolder() {
  const folder = tempDir();
  mkdirSync(join(folder, 'node_modules'));
  symlinkSync(fileURLToPath(new URL('./electron/', import.meta.url)), join(folder, 'node_modules', 'electron'), 'junction');
  symlinkSync(fileURLToPath(new URL('../', import.meta.url)), join(folder, 'node_modules', 'deskbridge-client'), 'junction');
  writeFileSync(join(folder, 'main.mjs'), electronSample());
  return folder;
}

/** @param {number} pid */
function running(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code !== 'ESRCH';
  }
}

test('the Electron sample stops the backend before the app quits, and quits once', { timeout: 60_000 }, async () => {
  const folder = appFolder();
  // The sample runs `deskbridge`, found on the PATH as a user's installed one would be.
  if (isAbsolute(DESKBRIDGE)) process.env.PATH = `${dirname(DESKBRIDGE)}${delimiter}${process.env.PATH}`;
  const { app, ipcMain, BrowserWindow } = await import('./electron/index.mjs');
  app.setPath('userData', join(folder, 'userData'));
  /** @type {string[]} what the sample logs: the backend's stderr lines */
  const logged = [];
  const log = console.log;
  console.log = (...args) => logged.push(args.join(' '));
  /** @type {number | undefined} */
  let pid;
  after(() => {
    console.log = log;
    if (pid !== undefined && running(pid)) process.kill(pid, 'SIGKILL');
  });

  await import(pathToFileURL(join(folder, 'main.mjs')).href);
  app.becomeReady();
  await until(() => ipcMain.handlers.has('backend:call'), 'the sample to start the backend and handle backend:call', 30_000);
  const ready = JSON.parse(logged.find((line) => line.includes('"BACKEND_READY"'))?.replace(/^\[backend\] /, '') ?? 'null');
  assert.ok(ready, `the sample logs the backend's stderr, its ready line first:\n${logged.join('\n')}`);
  pid = ready.pid;
  assert.deepEqual(ready.apps, ['studio']);
  assert.equal((await ipcMain.invoke('backend:call', 'PING')).pong, true, 'the renderer reaches the backend');

  /** @type {Array<{prevented: boolean, backendRunning: boolean, quitCalls: number}>} */
  const seen = [];
  app.on('before-quit', (/** @type {{defaultPrevented: boolean}} */ event) => {
    seen.push({ prevented: event.defaultPrevented, backendRunning: running(Number(pid)), quitCalls: app.quitCalls });
  });
  app.userQuits();
  app.userQuits(); // impatient: quit again while the backend stops
  await until(() => app.quitted, 'the app to quit', 20_000);
  await sleep(300); // any further app.quit() would come now

  assert.deepEqual(seen, [
    { prevented: true, backendRunning: true, quitCalls: 0 }, // the user's: held while the backend stops
    { prevented: true, backendRunning: true, quitCalls: 0 }, // the user's again: held, not a second close
    { prevented: false, backendRunning: false, quitCalls: 1 }, // the sample's app.quit(), once the backend is gone
  ]);
  assert.equal(app.quitCalls, 1, 'app.quit() is called once, not in a loop');
  assert.equal(running(Number(pid)), false);
  const [window] = BrowserWindow.opened;
  assert.deepEqual(
    window.sent.filter(([channel]) => channel === 'backend:gone'),
    [],
    'a backend the app stopped is not reported as gone',
  );
});
