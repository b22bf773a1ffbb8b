import type { Express } from 'express';
import type { Server } from 'node:http';
import { drain } from '../config/shutdown';

export interface ListeningServer {
  server: Server;
  /**
   * Stops taking connections and lets requests in flight finish for up to `graceMs`; then
   * cuts what is left. Resolves once every connection is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** Listens and resolves once bound (or rejects, e.g. when the port is taken). */
export function listen(app: Express, host: string, port: number): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => resolve({ server, close: (graceMs) => drain(server, graceMs) }));
  });
}
