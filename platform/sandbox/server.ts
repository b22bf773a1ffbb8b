import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandboxPlatform, type SandboxPlatformOptions } from './app';
import type { SandboxState } from './state';
import { fileStore } from './store';
import { drain } from '../../config/shutdown';
import type { AppConfig } from '../../config/config';

export interface StartSandboxOptions extends SandboxPlatformOptions {
  /** 0 picks a free port, which parallel test files need. */
  port: number;
  host?: string;
  /** A JSON file that keeps the sandbox's state across restarts (npm start: data/sandbox-state.json). */
  stateFile?: string;
}

export interface RunningSandbox {
  url: string;
  state: SandboxState;
  /**
   * Stops taking connections, lets requests in flight finish for up to `graceMs` (then cuts
   * them), and saves the state one last time (callback deliveries recorded after an answer).
   */
  close(graceMs?: number): Promise<void>;
}

/** The sandbox as configured for `npm start` and `npm run start:sandbox`. */
export function sandboxOptionsFrom(
  config: Pick<
    AppConfig,
    'SANDBOX_HOST' | 'SANDBOX_PORT' | 'PLATFORM_API_TOKEN' | 'SANDBOX_LATENCY_MS' | 'SANDBOX_ERROR_RATE' | 'SANDBOX_CALLBACK_URL' | 'PLATFORM_CALLBACK_SECRET'
  > &
    Partial<Pick<AppConfig, 'SANDBOX_STATE_FILE' | 'YOUZAN_APP_ID' | 'YOUZAN_APP_SECRET' | 'YOUZAN_REDIRECT_URI'>>,
): StartSandboxOptions {
  return {
    host: config.SANDBOX_HOST,
    port: config.SANDBOX_PORT,
    token: config.PLATFORM_API_TOKEN,
    latencyMs: config.SANDBOX_LATENCY_MS,
    errorRate: config.SANDBOX_ERROR_RATE,
    paymentCallback: { url: config.SANDBOX_CALLBACK_URL, secret: config.PLATFORM_CALLBACK_SECRET },
    ...(config.SANDBOX_STATE_FILE ? { stateFile: config.SANDBOX_STATE_FILE } : {}),
    // The partners know the app the worker calls them as, and the API's OAuth callback.
    ...(config.YOUZAN_APP_ID && config.YOUZAN_APP_SECRET
      ? { partnerApp: { appId: config.YOUZAN_APP_ID, appSecret: config.YOUZAN_APP_SECRET, redirectUris: config.YOUZAN_REDIRECT_URI ? [config.YOUZAN_REDIRECT_URI] : [] } }
      : {}),
  };
}

export async function startSandboxPlatform(options: StartSandboxOptions): Promise<RunningSandbox> {
  const store = options.stateFile ? fileStore(options.stateFile) : undefined;
  const { app, state } = createSandboxPlatform({ ...options, ...(store ? { store } : {}) });
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    state,
    close: async (graceMs = 5_000) => {
      // Idle keep-alive sockets (fetch keeps them) close at once; busy ones once answered,
      // or when they outlast the grace time (a request sleeping on injected latency).
      await drain(server, graceMs);
      await store?.save(state);
    },
  };
}
