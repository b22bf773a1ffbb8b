import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * docker-compose.yml is checked statically (this machine has no Docker engine): the wiring
 * between services is where a typo costs an evening, so it is pinned down here.
 */
const root = join(__dirname, '..', '..');

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Env | string[];
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: { test?: string | string[] };
  restart?: string;
  entrypoint?: string | string[];
  profiles?: string[];
  labels?: Record<string, string> | string[];
  volumes?: (string | { type?: string; source?: string })[];
}
interface Compose {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// Compose resolves `<<` merge keys (YAML 1.1); the yaml package needs to be told.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const buildConfig = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
const services = compose.services;
const APP_SERVICES = ['migrate', 'sandbox', 'worker', 'api'];
/** One-shot jobs: they run to completion and something waits for that. */
const JOBS = ['temporal-schema', 'temporal-namespace', 'migrate'];

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`service ${name} is missing`);
  return s;
}

function env(name: string): Env {
  const e = service(name).environment ?? {};
  if (!Array.isArray(e)) return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(
    e.map((line) => {
      const i = line.indexOf('=');
      return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
    }),
  );
}

function commandOf(name: string): string[] {
  const c = service(name).command;
  if (c === undefined) return [];
  return Array.isArray(c) ? c : c.trim().split(/\s+/);
}

/** Every port mapping of a service as { published, target } (host IP dropped). */
function ports(name: string): { published: string; target: string }[] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') return { published: String(p.published ?? ''), target: String(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = parts[parts.length - 1]!;
    const published = parts.length >= 2 ? parts[parts.length - 2]! : '';
    return { published, target };
  });
}

function dependsOn(name: string): Record<string, string | undefined> {
  const d = service(name).depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.condition ?? 'service_started']));
}

/** `${VAR:-default}` becomes its default; `${VAR}` / `${VAR:?message}` a placeholder, as if VAR were set. */
function interpolate(value: string): string {
  return value.replace(/\$\{[A-Za-z0-9_]+(?:(:?[-?+])([^}]*))?\}/g, (_m, op?: string, arg?: string) =>
    op === ':-' || op === '-' ? (arg ?? '') : 'placeholder',
  );
}

const usesOurImage = (name: string) => service(name).build !== undefined || /^merchant-ops(:|$)/.test(service(name).image ?? '');

const healthTest = (name: string) => JSON.stringify(service(name).healthcheck?.test ?? '');
const commandText = (name: string) => [service(name).entrypoint ?? [], service(name).command ?? []].flat().join(' ');

describe('docker-compose.yml', () => {
  it('follows the compose spec (no obsolete `version:` key) and has its services', () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'migrate', 'postgresql', 'sandbox', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
    );
  });

  it.each([
    ['postgresql', '5432', '5432'],
    ['temporal', '7233', '7233'],
    ['temporal-ui', '8233', '8080'],
    ['sandbox', '3100', '3100'],
    ['api', '3000', '3000'],
  ])('%s publishes %s -> %s', (name, published, target) => {
    expect(ports(name)).toContainEqual({ published, target });
  });

  it('keeps PostgreSQL data in a named volume and reports health with pg_isready', () => {
    const pg = service('postgresql');
    expect(env('postgresql')).toMatchObject({ POSTGRES_USER: expect.any(String), POSTGRES_DB: 'merchant_ops' });
    const volume = String(pg.volumes?.[0]).split(':')[0]!;
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    expect(healthTest('postgresql')).toContain('pg_isready');
  });

  it('runs the maintained Temporal server image, never the deprecated auto-setup one', () => {
    for (const s of Object.values(services)) expect(s.image ?? '').not.toMatch(/auto-setup/);
    expect(service('temporal').image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(env('temporal')).toMatchObject({ DB: 'postgres12', DB_PORT: '5432', POSTGRES_SEEDS: 'postgresql', DBNAME: 'temporal', VISIBILITY_DBNAME: 'temporal_visibility' });
    expect(env('temporal').POSTGRES_USER).toBe(env('postgresql').POSTGRES_USER);
    expect(env('temporal').POSTGRES_PWD).toBe(env('postgresql').POSTGRES_PASSWORD);
    expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('sets up Temporal\'s schema with the admin-tools job before the server starts', () => {
    const version = service('temporal').image!.split(':')[1]!;
    expect(service('temporal-schema').image).toMatch(new RegExp(`^temporalio/admin-tools:${version.replace(/\./g, '\\.')}(-|$)`));
    expect(dependsOn('temporal-schema')).toMatchObject({ postgresql: 'service_healthy' });
    expect(dependsOn('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    const script = commandText('temporal-schema');
    expect(script).toContain('temporal-sql-tool --plugin postgres12');
    expect(env('temporal-schema').POSTGRES_PWD).toBe(env('postgresql').POSTGRES_PASSWORD);
    for (const [db, dir] of [
      ['temporal', 'postgresql/v12/temporal/versioned'],
      ['temporal_visibility', 'postgresql/v12/visibility/versioned'],
    ]) {
      expect(script).toMatch(new RegExp(`--db ${db} create\\b`));
      expect(script).toMatch(new RegExp(`--db ${db} setup-schema -v 0\\.0`));
      expect(script).toContain(`--db ${db} update-schema -d /etc/temporal/schema/${dir}`);
    }
    // Compose would interpolate a single `$` itself, from the host's environment.
    expect(script).not.toMatch(/(^|[^$])\$[A-Za-z{]/);
  });

  it('registers the namespace once the server is healthy, and the app waits for it', () => {
    expect(dependsOn('temporal-namespace')).toEqual({ temporal: 'service_healthy' });
    expect(commandText('temporal-namespace')).toMatch(/namespace describe --namespace default .*\|\| temporal operator namespace create --namespace default --retention \d+h/);
    for (const name of ['worker', 'api']) expect(dependsOn(name)).toMatchObject({ 'temporal-namespace': 'service_completed_successfully' });
  });

  it('keeps the Web UI read only: no signal, termination or reset bypasses the audited API', () => {
    expect(env('temporal-ui').TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    // The healthcheck fails if the UI ever serves write actions.
    expect(healthTest('temporal-ui')).toContain('DisableWriteActions');
    expect(healthTest('temporal-ui')).toContain('/api/v1/settings');
  });

  it.each([
    ['migrate', 'db/migrate'],
    ['sandbox', 'platform/sandbox/main'],
    ['worker', 'worker/main'],
    ['api', 'api/main'],
  ])('%s runs our image\'s compiled %s (no tsx, no npm in between)', (name, entry) => {
    expect(usesOurImage(name)).toBe(true);
    expect(commandOf(name)).toEqual(['node', `dist/${entry}.js`]);
    // What `npm run build` compiles into dist/.
    expect(existsSync(join(root, `${entry}.ts`))).toBe(true);
    expect(buildConfig.include).toContain(entry.split('/')[0]);
  });

  it('has a healthcheck on every long-running service, the worker included; jobs run once and are waited for', () => {
    for (const [name, s] of Object.entries(services)) {
      if (JOBS.includes(name)) {
        expect([name, s.restart]).toEqual([name, 'no']);
        const waitedFor = Object.keys(services).some((other) => dependsOn(other)[name] === 'service_completed_successfully');
        expect([name, waitedFor]).toEqual([name, true]);
      } else {
        expect([name, s.healthcheck?.test]).toEqual([name, expect.anything()]);
      }
    }
    expect(healthTest('worker')).toContain('dist/worker/healthcheck.js');
    expect(healthTest('api')).toContain('/health/live');
  });

  it('marks the sandbox as the stand-in for the partner platforms, which a real deployment replaces', () => {
    const sandbox = service('sandbox');
    expect(sandbox.profiles).toEqual(['sandbox']);
    expect(JSON.stringify(sandbox.labels)).toMatch(/stand-in for the partner and payment platforms/);
    expect((service('worker').depends_on as Record<string, { required?: boolean }>).sandbox).toMatchObject({ required: false });
    for (const name of APP_SERVICES) {
      expect(env(name).PLATFORM_BASE_URL).toBe('${PLATFORM_BASE_URL:-http://sandbox:3100}');
      expect(env(name).PLATFORM_API_TOKEN).toMatch(/^\$\{PLATFORM_API_TOKEN:-/);
    }
  });

  it.each(APP_SERVICES)('%s talks to the compose PostgreSQL, Temporal and platform in production mode', (name) => {
    const e = env(name);
    const db = new URL(interpolate(e.DATABASE_URL ?? ''));
    expect(db.protocol).toMatch(/^postgres(ql)?:$/);
    expect(db.hostname).toBe('postgresql');
    expect(db.port || '5432').toBe('5432');
    expect(db.pathname).toBe(`/${env('postgresql').POSTGRES_DB}`);
    // The app's role, never the owner (a superuser in the postgres image).
    expect(decodeURIComponent(db.username)).toBe('merchant_ops_app');
    expect(decodeURIComponent(db.username)).not.toBe(env('postgresql').POSTGRES_USER);
    expect(e.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(interpolate(e.PLATFORM_BASE_URL ?? '')).toBe('http://sandbox:3100');
    expect(e.NODE_ENV).toBe('production');
  });

  it('migrates as the owner, which creates the app role with its own password', () => {
    const owner = new URL(interpolate(env('migrate').MIGRATION_DATABASE_URL ?? ''));
    expect(decodeURIComponent(owner.username)).toBe(env('postgresql').POSTGRES_USER);
    expect(owner.hostname).toBe('postgresql');
    expect(owner.pathname).toBe(`/${env('postgresql').POSTGRES_DB}`);
    expect(env('migrate').DATABASE_URL).toMatch(/\$\{APP_DATABASE_PASSWORD:\?[^}]*\}/);
    for (const name of ['sandbox', 'worker', 'api']) expect(env(name).MIGRATION_DATABASE_URL).toBeUndefined();
  });

  it('starts the worker and the API only after migrations succeeded and Temporal is ready', () => {
    for (const name of ['worker', 'api']) {
      expect(dependsOn(name)).toMatchObject({
        migrate: 'service_completed_successfully',
        'temporal-namespace': 'service_completed_successfully',
      });
    }
    expect(dependsOn('worker')).toHaveProperty('sandbox');
    expect(dependsOn('api')).toMatchObject({ worker: 'service_healthy' });
    expect(dependsOn('migrate')).toMatchObject({ postgresql: 'service_healthy' });
  });

  it('pins every image to a tag other than latest', () => {
    for (const [name, s] of Object.entries(services)) {
      const image = s.image;
      if (image === undefined) {
        expect([name, s.build]).toEqual([name, expect.anything()]);
        continue;
      }
      const ref = interpolate(image).split('@')[0]!;
      const tag = ref.includes(':', ref.lastIndexOf('/') + 1) ? ref.slice(ref.lastIndexOf(':') + 1) : '';
      expect([name, tag]).toEqual([name, expect.stringMatching(/^[\w][\w.-]*$/)]);
      expect([name, tag]).not.toEqual([name, 'latest']);
    }
  });

  it('commits no secret: secrets must come from the environment and have no default', () => {
    const secretKeys = ['JWT_SECRET', 'PII_ENCRYPTION_KEY', 'PLATFORM_CALLBACK_SECRET', 'IDENTITY_HASH_KEY', 'PARTNER_SECRETS_KEY', 'YOUZAN_APP_SECRET', 'POSTGRES_PASSWORD', 'POSTGRES_PWD'];
    const required = /^\$\{([A-Z0-9_]+):\?[^}]*\}$/;
    let seen = 0;
    for (const name of Object.keys(services)) {
      for (const [key, value] of Object.entries(env(name))) {
        if (!secretKeys.includes(key)) continue;
        seen += 1;
        expect([name, key, value]).toEqual([name, key, expect.stringMatching(required)]);
      }
      // The password inside DATABASE_URL too.
      for (const url of [env(name).DATABASE_URL, env(name).MIGRATION_DATABASE_URL]) {
        if (url) expect(new URL(url.replace(/\$\{[^}]*\}/g, 'SECRET')).password).toBe('SECRET');
      }
    }
    for (const name of ['worker', 'api']) {
      expect(env(name).JWT_SECRET).toMatch(required);
      expect(env(name).PII_ENCRYPTION_KEY).toMatch(required);
      expect(env(name).IDENTITY_HASH_KEY).toMatch(required);
      expect(env(name).PARTNER_SECRETS_KEY).toMatch(required);
      expect(env(name).YOUZAN_APP_SECRET).toMatch(required);
    }
    for (const name of ['sandbox', 'api']) expect(env(name).PLATFORM_CALLBACK_SECRET).toMatch(required);
    expect(seen).toBeGreaterThan(0);
  });

  it('tells how to set the secrets once, never a command that makes new ones on every start', () => {
    expect(composeText).toContain('bash scripts/init-env.sh');
    expect(composeText).not.toMatch(/export \w+=\$\(openssl/);
  });
});

describe('scripts/init-env.sh: the secrets, once', () => {
  const required = [...new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!))];
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'init-env-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (target: string) => spawnSync('bash', [join(root, 'scripts/init-env.sh'), target], { encoding: 'utf8' });
  const parseEnv = (text: string) =>
    Object.fromEntries(text.split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  it('writes every secret compose requires, readable by its owner only, with the sandbox profile on', () => {
    const target = join(dir, '.env');
    expect(run(target).status).toBe(0);
    const written = parseEnv(readFileSync(target, 'utf8'));
    expect(Object.keys(written)).toEqual(expect.arrayContaining(required));
    expect(required.length).toBeGreaterThanOrEqual(6);
    expect(Buffer.from(written.PII_ENCRYPTION_KEY!, 'base64')).toHaveLength(32);
    expect(Buffer.from(written.IDENTITY_HASH_KEY!, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(Buffer.from(written.PARTNER_SECRETS_KEY!, 'base64')).toHaveLength(32);
    expect(written.YOUZAN_APP_SECRET!.length).toBeGreaterThanOrEqual(16);
    expect(written.JWT_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(written.COMPOSE_PROFILES).toBe('sandbox');
    expect(statSync(target).mode & 0o077).toBe(0);
  });

  it('refuses to run again: new secrets would lose the data written with the first ones', () => {
    const target = join(dir, '.env-twice');
    expect(run(target).status).toBe(0);
    const first = readFileSync(target, 'utf8');
    const again = run(target);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(readFileSync(target, 'utf8')).toBe(first);
  });
});
