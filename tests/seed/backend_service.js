// Seed 000's Electron BackendService, verbatim but for the command it spawns
// (the seed spawns 'python backend/main.py'; here it is deskbridge stdio studio).
// Run by tests/test_seed_examples.py: prints one JSON line per step.
const BACKEND_COMMAND = JSON.parse(process.env.DESKBRIDGE_COMMAND);

const { spawn } = require('child_process');

class BackendService {
  constructor() {
    this.backendProcess = null;
    this.pendingCommands = new Map();
    this.progressCallbacks = new Map();
  }

  async start() {
    return new Promise((resolve, reject) => {
      this.backendProcess = spawn(BACKEND_COMMAND[0], BACKEND_COMMAND.slice(1), {
        stdio: ['pipe', 'pipe', 'pipe']
      });

      // Listen for ready message
      this.backendProcess.stderr.on('data', (data) => {
        const message = data.toString().trim();
        try {
          const parsed = JSON.parse(message);
          if (parsed.type === 'BACKEND_READY') {
            this.setupResponseHandling();
            resolve();
          }
        } catch (e) {
          // Ignore non-JSON output
        }
      });

      // Handle errors
      this.backendProcess.on('error', reject);
      this.backendProcess.on('exit', (code) => {
        if (code !== 0) {
          reject(new Error(`Backend exited with code ${code}`));
        }
      });
    });
  }

  setupResponseHandling() {
    this.backendProcess.stdout.on('data', (data) => {
      const lines = data.toString().trim().split('\n');
      for (const line of lines) {
        try {
          const message = JSON.parse(line);
          this.handleMessage(message);
        } catch (e) {
          console.error('Failed to parse message:', line);
        }
      }
    });
  }

  handleMessage(message) {
    if (message.type === 'progress-event') {
      // Handle progress events
      const operationId = message.payload.operation_id;
      const callback = this.progressCallbacks.get(operationId);
      if (callback) {
        callback(message.payload);
      }
    } else {
      // Handle command responses
      const callback = this.pendingCommands.get(message.id);
      if (callback) {
        this.pendingCommands.delete(message.id);
        callback(message);
      }
    }
  }

  sendCommand(type, payload, onProgress) {
    return new Promise((resolve, reject) => {
      const commandId = `cmd-${Date.now()}-${Math.random()}`;
      const command = {
        id: commandId,
        type,
        payload,
        timestamp: Date.now()
      };

      // Register response callback
      this.pendingCommands.set(commandId, (response) => {
        if (response.success) {
          resolve(response);
        } else {
          reject(new Error(response.error));
        }
      });

      // Register progress callback if provided
      if (onProgress) {
        // Store operation_id from response when it arrives
        const originalCallback = this.pendingCommands.get(commandId);
        this.pendingCommands.set(commandId, (response) => {
          if (response.success && response.data?.operation_id) {
            this.progressCallbacks.set(response.data.operation_id, onProgress);
          }
          originalCallback(response);
        });
      }

      // Send command
      this.backendProcess.stdin.write(JSON.stringify(command) + '\n');
    });
  }

  async createAccount(name, email) {
    return this.sendCommand('CREATE_ACCOUNT', { name, email });
  }

  async getAccounts() {
    return this.sendCommand('GET_ACCOUNTS', {});
  }

  async createSongsBatch(accountName, prompts, options = {}) {
    return this.sendCommand('CREATE_SONGS_BATCH', {
      account_name: accountName,
      prompts,
      ...options
    }, (progress) => {
      console.log(`Progress: ${progress.progress}% - ${progress.message}`);
    });
  }

  stop() {
    if (this.backendProcess) {
      this.backendProcess.kill();
      this.backendProcess = null;
    }
  }
}


async function main() {
  const backend = new BackendService();
  const out = (step, value) => console.log(JSON.stringify({ step, value }));
  try {
    await backend.start();
    out('ready', true);
    const before = await backend.getAccounts();
    out('accounts', before.data);
    const created = await backend.createAccount('test_account', 'test@example.com');
    out('created', created.data);
    try {
      await backend.createAccount('test_account', 'test@example.com');
      out('duplicate', null);
    } catch (error) {
      out('duplicate', error.message);
    }
    const after = await backend.getAccounts();
    out('accounts', after.data);
  } catch (error) {
    out('error', String(error));
  } finally {
    backend.stop();
  }
}

main();
