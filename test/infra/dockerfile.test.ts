import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The one image every process runs from (see docker-compose.yml), checked statically. */
const root = join(__dirname, '..', '..');

const instructions = readFileSync(join(root, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
const indexOf = (op: string, re: RegExp) => instructions.findIndex((i) => i.op === op && re.test(i.args));
const last = (op: string) => [...instructions].reverse().find((i) => i.op === op);

describe('Dockerfile', () => {
  it('builds on Node 20 (bookworm slim)', () => {
    expect(instructions[0]).toEqual({ op: 'FROM', args: 'node:20-bookworm-slim' });
  });

  it('installs exactly the locked dependencies before copying the source', () => {
    const copyLock = indexOf('COPY', /package-lock\.json/);
    const install = indexOf('RUN', /\bnpm ci --omit=dev\b/);
    const copySource = indexOf('COPY', /^(--\S+\s+)*\.\s+\.$/);
    expect(copyLock).toBeGreaterThan(-1);
    expect(install).toBeGreaterThan(copyLock);
    expect(copySource).toBeGreaterThan(install);
  });

  it('runs as the non-root node user, the API by default', () => {
    expect(last('USER')?.args).toBe('node');
    expect(JSON.parse(last('CMD')?.args ?? 'null')).toEqual(['npm', 'run', 'start:api']);
  });

  it('keeps local state, secrets and history out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.tools', 'data', '.git', 'coverage', '.env']));
  });
});
