import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, LIVENESS_MAX_AGE_MS, markAliveWhileRunning } from '../../worker/liveness';

describe('worker liveness mark', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liveness-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a running worker is marked alive, and the mark goes when it stops', () => {
    const file = path.join(dir, 'alive');
    const stop = markAliveWhileRunning({ getState: () => 'RUNNING' }, file);
    expect(isAlive(file)).toBe(true);
    stop();
    expect(isAlive(file)).toBe(false);
  });

  it('a worker that is not running (failed, draining) leaves no mark', () => {
    const file = path.join(dir, 'alive');
    const stop = markAliveWhileRunning({ getState: () => 'FAILED' }, file);
    expect(isAlive(file)).toBe(false);
    stop();
  });

  it('a mark is fresh up to the maximum age and stale one millisecond after', () => {
    const file = path.join(dir, 'alive');
    fs.writeFileSync(file, 'x');
    const at = fs.statSync(file).mtimeMs;
    expect(isAlive(file, at + LIVENESS_MAX_AGE_MS)).toBe(true);
    expect(isAlive(file, at + LIVENESS_MAX_AGE_MS + 1)).toBe(false);
  });
});
