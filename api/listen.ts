import type { Express } from 'express';
import type { Server } from 'node:http';

export interface ListeningServer {
  server: Server;
  close(): Promise<void>;
}

/** Listens and resolves once bound (or rejects, e.g. when the port is taken). */
export function listen(app: Express, host: string, port: number): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () =>
      resolve({
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      }),
    );
  });
}
