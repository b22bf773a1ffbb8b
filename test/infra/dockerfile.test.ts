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
const stages = instructions.reduce<Array<{ from: string; name: string; steps: typeof instructions }>>((acc, i) => {
  if (i.op === 'FROM') {
    const [from = '', , name = ''] = i.args.split(/\s+/);
    acc.push({ from, name, steps: [] });
  } else acc[acc.length - 1]?.steps.push(i);
  return acc;
}, []);
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no ${name} stage`);
  return found;
};
const indexIn = (steps: typeof instructions, op: string, re: RegExp) => steps.findIndex((i) => i.op === op && re.test(i.args));
const lastIn = (steps: typeof instructions, op: string) => [...steps].reverse().find((i) => i.op === op);
const envOf = (steps: typeof instructions) =>
  Object.fromEntries(steps.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])));

/**
 * Whether `version` (x.y.z) is in an engines range made of comparators (>=, >, <=, <, =) on
 * whole or partial versions, joined by spaces (and) and || (or). Other forms (^, ~, x) throw,
 * so a change of the range's form comes back here rather than passing unread.
 */
function satisfies(version: string, range: string): boolean {
  const parts = (v: string) => v.replace(/^v/, '').split('.').map(Number);
  const compare = (a: number[], b: number[]) => {
    for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) < b[i]! ? -1 : 1;
    return 0;
  };
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .every((comparator) => {
        const m = /^(>=|<=|>|<|=)?(\d+(?:\.\d+){0,2})$/.exec(comparator);
        if (!m) throw new Error(`engines comparator "${comparator}" is not one this test reads`);
        const c = compare(parts(version), parts(m[2]!));
        return { '>=': c >= 0, '<=': c <= 0, '>': c > 0, '<': c < 0, '=': c === 0 }[m[1] ?? '=']!;
      }),
  );
}

describe('Node versions', () => {
  const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

  it("package.json engines admit the image's Node, Node 20 and 22 LTS, and the Node running this suite (CI runs on the machine's)", () => {
    const imageMajors = stages.map((s) => /^node:(\d+)-/.exec(s.from)?.[1]);
    for (const major of imageMajors) expect([major, satisfies(`${major}.0.0`, engines)]).toEqual([major, true]);
    for (const version of ['20.3.0', '20.19.0', '22.0.0', process.version]) expect([version, satisfies(version, engines)]).toEqual([version, true]);
    expect(satisfies('18.20.0', engines)).toBe(false);
  });

  it('the README says which Node development, CI and production run on', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('with Node 20 or 22 (LTS)');
    expect(readme).toMatch(/CI runs the suite on the machine's Node/);
    expect(readme).toContain('Production runs compiled JavaScript on Node 22 LTS');
  });
});

describe('Dockerfile', () => {
  it('builds and runs on Node 22 LTS (bookworm slim), in a build stage and a runtime stage', () => {
    expect(stages.map((s) => [s.from, s.name])).toEqual([
      ['node:22-bookworm-slim', 'build'],
      ['node:22-bookworm-slim', 'runtime'],
    ]);
  });

  it('builds from exactly the locked dependencies: npm ci before the source, then npm run build', () => {
    const { steps } = stage('build');
    const copyLock = indexIn(steps, 'COPY', /package-lock\.json/);
    const install = indexIn(steps, 'RUN', /^npm ci\b/);
    const copySource = indexIn(steps, 'COPY', /^(--\S+\s+)*\.\s+\.$/);
    const build = indexIn(steps, 'RUN', /\bnpm run build\b/);
    expect(copyLock).toBeGreaterThan(-1);
    expect(install).toBeGreaterThan(copyLock);
    expect(steps[install]?.args).not.toMatch(/--omit=dev/);
    expect(copySource).toBeGreaterThan(install);
    expect(build).toBeGreaterThan(copySource);
  });

  it('runs compiled JavaScript with production dependencies only and the workflow bundle built ahead', () => {
    const { steps } = stage('runtime');
    const install = indexIn(steps, 'RUN', /\bnpm ci --omit=dev\b/);
    expect(install).toBeGreaterThan(indexIn(steps, 'COPY', /package-lock\.json/));
    // Only the build output comes over: no TypeScript source, no dev tools.
    expect(steps.filter((i) => i.op === 'COPY').map((i) => i.args)).toEqual(['package.json package-lock.json ./', '--from=build /app/dist ./dist']);
    expect(envOf(steps)).toMatchObject({ NODE_ENV: 'production', WORKFLOW_BUNDLE_PATH: '/app/dist/workflow-bundle.js', WORKER_HEALTH_FILE: expect.any(String) });
    expect(steps.filter((i) => i.op === 'RUN' || i.op === 'CMD').map((i) => i.args).join(' ')).not.toMatch(/\btsx\b/);
  });

  it('runs as the non-root node user, the API by default', () => {
    const { steps } = stage('runtime');
    expect(lastIn(steps, 'USER')?.args).toBe('node');
    expect(JSON.parse(lastIn(steps, 'CMD')?.args ?? 'null')).toEqual(['node', 'dist/api/main.js']);
  });

  it('keeps local state, secrets, build output and history out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.tools', 'data', 'dist', '.git', 'coverage', '.env']));
  });
});
