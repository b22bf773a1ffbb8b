import { isAlive } from './liveness';

/**
 * The worker's healthcheck (docker-compose.yml): exits 0 when the running worker marked itself
 * alive lately in WORKER_HEALTH_FILE, 1 otherwise. Reads the one variable only, so a check
 * never fails on the rest of the config.
 */
const file = process.env.WORKER_HEALTH_FILE;
if (!file) {
  process.stderr.write('WORKER_HEALTH_FILE is not set\n');
  process.exitCode = 1;
} else if (!isAlive(file)) {
  process.stderr.write(`worker not alive: no fresh mark in ${file}\n`);
  process.exitCode = 1;
}
