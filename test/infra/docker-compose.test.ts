import { readFileSync } from 'node:fs';
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
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  restart?: string;
  volumes?: (string | { type?: string; source?: string })[];
}
interface Compose {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// Compose resolves `<<` merge keys (YAML 1.1); the yaml package needs to be told.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const services = compose.services;
const APP_SERVICES = ['migrate', 'sandbox', 'worker', 'api'];

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

describe('docker-compose.yml', () => {
  it('follows the compose spec (no obsolete `version:` key) and has the seven services', () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'migrate', 'postgresql', 'sandbox', 'temporal', 'temporal-ui', 'worker'].sort(),
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
    expect(JSON.stringify(pg.healthcheck?.test)).toContain('pg_isready');
  });

  it('persists Temporal in the compose PostgreSQL', () => {
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:/);
    expect(env('temporal')).toMatchObject({ DB: 'postgres12', DB_PORT: '5432', POSTGRES_SEEDS: 'postgresql' });
    expect(env('temporal').POSTGRES_USER).toBe(env('postgresql').POSTGRES_USER);
    expect(env('temporal').POSTGRES_PWD).toBe(env('postgresql').POSTGRES_PASSWORD);
    expect(dependsOn('temporal')).toMatchObject({ postgresql: 'service_healthy' });
    expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it.each([
    ['migrate', 'migrate'],
    ['sandbox', 'start:sandbox'],
    ['worker', 'start:worker'],
    ['api', 'start:api'],
  ])('%s runs our image with `npm run %s`', (name, script) => {
    expect(usesOurImage(name)).toBe(true);
    expect(commandOf(name)).toEqual(['npm', 'run', script]);
  });

  it('every npm script a compose command names exists in package.json', () => {
    const named = Object.keys(services).flatMap((name) => {
      const c = commandOf(name);
      return c[0] === 'npm' && c[1] === 'run' && c[2] ? [c[2]] : [];
    });
    expect(named.length).toBeGreaterThanOrEqual(APP_SERVICES.length);
    for (const script of named) expect(Object.keys(pkg.scripts)).toContain(script);
  });

  it.each(APP_SERVICES)('%s talks to the compose PostgreSQL, Temporal and sandbox in production mode', (name) => {
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
    expect(e.PLATFORM_BASE_URL).toBe('http://sandbox:3100');
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

  it('starts the worker and the API only after migrations succeeded and Temporal is healthy', () => {
    for (const name of ['worker', 'api']) {
      expect(dependsOn(name)).toMatchObject({
        migrate: 'service_completed_successfully',
        temporal: 'service_healthy',
      });
    }
    expect(dependsOn('worker')).toHaveProperty('sandbox');
    expect(dependsOn('api')).toHaveProperty('worker');
    expect(dependsOn('migrate')).toMatchObject({ postgresql: 'service_healthy' });
    expect(service('migrate').restart).toBe('no');
  });

  it('checks the API through GET /health/live', () => {
    expect(JSON.stringify(service('api').healthcheck?.test)).toContain('/health/live');
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
    const secretKeys = ['JWT_SECRET', 'PII_ENCRYPTION_KEY', 'PLATFORM_CALLBACK_SECRET', 'IDENTITY_HASH_KEY', 'POSTGRES_PASSWORD', 'POSTGRES_PWD'];
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
    }
    for (const name of ['sandbox', 'api']) expect(env(name).PLATFORM_CALLBACK_SECRET).toMatch(required);
    expect(seen).toBeGreaterThan(0);
  });
});
