import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandboxPlatform, type SandboxPlatformOptions } from './app';
import type { SandboxState } from './state';
import type { AppConfig } from '../../config/config';

export interface StartSandboxOptions extends SandboxPlatformOptions {
  /** 0 picks a free port, which parallel test files need. */
  port: number;
  host?: string;
}

export interface RunningSandbox {
  url: string;
  state: SandboxState;
  close(): Promise<void>;
}

/** The sandbox as configured for `npm start` and `npm run start:sandbox`. */
export function sandboxOptionsFrom(
  config: Pick<
    AppConfig,
    'SANDBOX_HOST' | 'SANDBOX_PORT' | 'PLATFORM_API_TOKEN' | 'SANDBOX_LATENCY_MS' | 'SANDBOX_ERROR_RATE' | 'SANDBOX_CALLBACK_URL' | 'PLATFORM_CALLBACK_SECRET'
  >,
): StartSandboxOptions {
  return {
    host: config.SANDBOX_HOST,
    port: config.SANDBOX_PORT,
    token: config.PLATFORM_API_TOKEN,
    latencyMs: config.SANDBOX_LATENCY_MS,
    errorRate: config.SANDBOX_ERROR_RATE,
    paymentCallback: { url: config.SANDBOX_CALLBACK_URL, secret: config.PLATFORM_CALLBACK_SECRET },
  };
}

export async function startSandboxPlatform(options: StartSandboxOptions): Promise<RunningSandbox> {
  const { app, state } = createSandboxPlatform(options);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (fetch keeps them) and requests sleeping on injected
        // latency would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
