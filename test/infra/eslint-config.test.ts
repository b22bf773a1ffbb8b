import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The layering rules in eslint.config.mjs (workflow sandbox, pure domain, API through .defs)
 * are checked on in-memory snippets, so they cannot silently stop matching.
 *
 * The config is ESM and ESLint loads it with `import()`, which jest's CommonJS runtime does not
 * allow, so the linting runs in a child Node process. Type information is switched off there
 * (the snippets are not files of the TypeScript project); the rules tested here need none.
 */
const root = join(__dirname, '..', '..');

interface Probe {
  id: string;
  file: string;
  code: string;
}

const LINT_SNIPPETS = `
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';

const root = process.cwd();
const { default: config } = await import(pathToFileURL(join(root, 'eslint.config.mjs')).href);
const withoutTypes = [...config, { files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }];
const linter = new Linter({ cwd: root });
const probes = JSON.parse(readFileSync(0, 'utf8'));
const out = {};
for (const p of probes) {
  out[p.id] = linter
    .verify(p.code, withoutTypes, { filename: join(root, p.file) })
    .map((m) => ({ rule: m.ruleId, fatal: !!m.fatal, message: m.message }));
}
process.stdout.write(JSON.stringify(out));
`;

type Reported = Record<string, { rule: string | null; fatal: boolean; message: string }[]>;

const probes: Probe[] = [
  { id: 'wf-fs', file: 'workflows/probe.ts', code: "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n" },
  { id: 'wf-node-fs', file: 'workflows/probe.ts', code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" },
  { id: 'wf-node-crypto', file: 'workflows/probe.ts', code: "import { randomUUID } from 'node:crypto';\nexport const x = randomUUID;\n" },
  { id: 'wf-activity-value', file: 'workflows/probe.ts', code: "import { createVerificationActivities } from '../activities/verification';\nexport const x = createVerificationActivities;\n" },
  { id: 'wf-activity-type', file: 'workflows/probe.ts', code: "import type { VerificationActivities } from '../activities/verification';\nexport type X = VerificationActivities;\n" },
  { id: 'wf-activities-index-type', file: 'workflows/probe.ts', code: "import type * as activities from '../activities';\nexport type X = typeof activities;\n" },
  { id: 'wf-nested-db', file: 'workflows/sub/probe.ts', code: "import { createDb } from '../../db/connection';\nexport const x = createDb;\n" },
  { id: 'wf-config-type', file: 'workflows/probe.ts', code: "import type { AppConfig } from '../config/config';\nexport type X = AppConfig;\n" },
  { id: 'wf-platform', file: 'workflows/probe.ts', code: "import { PlatformClient } from '../platform/client';\nexport const x = PlatformClient;\n" },
  { id: 'wf-api', file: 'workflows/probe.ts', code: "import { createApp } from '../api/app';\nexport const x = createApp;\n" },
  { id: 'wf-worker', file: 'workflows/probe.ts', code: "import { run } from '../worker/worker';\nexport const x = run;\n" },
  { id: 'wf-client', file: 'workflows/probe.ts', code: "import { Client } from '@temporalio/client';\nexport const x = Client;\n" },
  { id: 'wf-process', file: 'workflows/probe.ts', code: 'export const x = process.env.X;\n' },
  {
    id: 'wf-allowed',
    file: 'workflows/probe.ts',
    code:
      "import { proxyActivities, sleep } from '@temporalio/workflow';\n" +
      "import { ApplicationFailure } from '@temporalio/common';\n" +
      "import { verificationId } from './verification.defs';\n" +
      "import { feeFen } from '../domain/fees';\n" +
      'export const x = [proxyActivities, sleep, ApplicationFailure, verificationId, feeFen, Date.now()];\n',
  },
  { id: 'wf-calendar-file', file: 'workflows/probe.ts', code: "import { loadCalendarFile } from '../domain/calendar-file';\nexport const x = loadCalendarFile;\n" },
  { id: 'domain-calendar-loader', file: 'domain/calendar-file.ts', code: "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n" },
  { id: 'api-search-attributes', file: 'api/verifications/probe.ts', code: "import { MERCHANT_ID } from '../../workflows/search-attributes';\nexport const x = MERCHANT_ID;\n" },
  { id: 'domain-node', file: 'domain/probe.ts', code: "import { createHash } from 'node:crypto';\nexport const x = createHash;\n" },
  { id: 'domain-config-type', file: 'domain/probe.ts', code: "import type { AppConfig } from '../config/config';\nexport type X = AppConfig;\n" },
  { id: 'domain-db-value', file: 'domain/probe.ts', code: "import { createDb } from '../db/connection';\nexport const x = createDb;\n" },
  { id: 'api-workflow-impl', file: 'api/routers/probe.ts', code: "import { verificationWorkflow } from '../../workflows/verification';\nexport const x = verificationWorkflow;\n" },
  { id: 'api-workflows-index', file: 'api/probe.ts', code: "import * as wf from '../workflows';\nexport const x = wf;\n" },
  { id: 'api-workflow-defs', file: 'api/probe.ts', code: "import { verificationId } from '../workflows/verification.defs';\nexport const x = verificationId;\n" },
  { id: 'activities-node', file: 'activities/probe.ts', code: "import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n" },
  { id: 'activities-console', file: 'activities/probe.ts', code: 'console.log(1);\n' },
  { id: 'scripts-console', file: 'scripts/probe.ts', code: 'console.log(1);\n' },
  // Layers point down: nothing below the API imports api/, not even a type.
  { id: 'activities-api-service', file: 'activities/probe.ts', code: "import { createShopService } from '../api/shops/service';\nexport const x = createShopService;\n" },
  { id: 'activities-api-type', file: 'activities/probe.ts', code: "import type { HttpError } from '../api/errors';\nexport type X = HttpError;\n" },
  { id: 'registry-routes', file: 'worker/registry.ts', code: "import { shopRoutes } from '../api/shops/router';\nexport const x = shopRoutes;\n" },
  { id: 'registry-service', file: 'worker/registry.ts', code: "import { createShopService } from '../api/shops/service';\nexport const x = createShopService;\n" },
  { id: 'worker-api', file: 'worker/probe.ts', code: "import { createCalendarService } from '../api/calendar/service';\nexport const x = createCalendarService;\n" },
  { id: 'db-api', file: 'db/repositories/probe.ts', code: "import { conflict } from '../../api/errors';\nexport const x = conflict;\n" },
  { id: 'platform-api', file: 'platform/sandbox/probe.ts', code: "import type { Principal } from '../../api/auth';\nexport type X = Principal;\n" },
  { id: 'domain-api', file: 'domain/probe.ts', code: "import type { HttpError } from '../api/errors';\nexport type X = HttpError;\n" },
  { id: 'calendar-loader-api', file: 'domain/calendar-file.ts', code: "import { notFound } from '../api/errors';\nexport const x = notFound;\n" },
  { id: 'wf-api-type', file: 'workflows/probe.ts', code: "import type { ShopService } from '../api/shops/service';\nexport type X = ShopService;\n" },
  {
    id: 'below-api-allowed',
    file: 'activities/probe.ts',
    code:
      "import { requestShopClosure } from './shop-closure-start';\n" +
      "import { ClosureAlreadyActive } from '../domain/errors';\n" +
      "import { createShopRepository } from '../db/repositories/shops';\n" +
      "import { closureWorkflowId } from '../workflows/shop-closure.defs';\n" +
      'export const x = [requestShopClosure, ClosureAlreadyActive, createShopRepository, closureWorkflowId];\n',
  },
  { id: 'api-imports-activities', file: 'api/shops/probe.ts', code: "import { requestShopClosure } from '../../activities/shop-closure-start';\nexport const x = requestShopClosure;\n" },
  // domain/ imports only domain/ and its few pure packages.
  { id: 'domain-platform-type', file: 'domain/probe.ts', code: "import type { FeedOrder } from '../platform/types';\nexport type X = FeedOrder;\n" },
  { id: 'domain-activities-type', file: 'domain/probe.ts', code: "import type { ViolationActivities } from '../activities/violations';\nexport type X = ViolationActivities;\n" },
  { id: 'domain-workflow-defs', file: 'domain/probe.ts', code: "import { closureWorkflowId } from '../workflows/shop-closure.defs';\nexport const x = closureWorkflowId;\n" },
  { id: 'domain-temporal', file: 'domain/probe.ts', code: "import { ApplicationFailure } from '@temporalio/common';\nexport const x = ApplicationFailure;\n" },
  { id: 'domain-other-package', file: 'domain/probe.ts', code: "import type { Knex } from 'knex';\nexport type X = Knex;\n" },
  { id: 'domain-sibling-loader', file: 'domain/probe.ts', code: "import { loadCalendarFile } from './calendar-file';\nexport const x = loadCalendarFile;\n" },
  {
    id: 'domain-allowed',
    file: 'domain/probe.ts',
    code:
      "import { z } from 'zod';\n" +
      "import { isHoliday } from 'chinese-days';\n" +
      "import { ErrorType } from './errors';\n" +
      "import type { CalendarData } from './calendar';\n" +
      'export const x = [z, isHoliday, ErrorType];\nexport type X = CalendarData;\n',
  },
  { id: 'type-only-value-import', file: 'domain/probe.ts', code: "import { Money } from './money';\nexport type X = Money;\n" },
];

let reported: Reported;

beforeAll(() => {
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', LINT_SNIPPETS], {
    cwd: root,
    input: JSON.stringify(probes),
    encoding: 'utf8',
  });
  reported = JSON.parse(stdout) as Reported;
}, 60_000);

const rulesOf = (id: string) => {
  const messages = reported[id];
  if (!messages) throw new Error(`no result for ${id}`);
  expect(messages.filter((m) => m.fatal)).toEqual([]);
  return messages.map((m) => m.rule);
};

const RESTRICTED = '@typescript-eslint/no-restricted-imports';

describe('eslint.config.mjs', () => {
  it.each([
    'wf-fs',
    'wf-node-fs',
    'wf-node-crypto',
    'wf-activity-value',
    'wf-nested-db',
    'wf-config-type',
    'wf-platform',
    'wf-api',
    'wf-worker',
    'wf-client',
    'wf-calendar-file',
    'domain-node',
    'domain-db-value',
    'domain-config-type',
    'domain-platform-type',
    'domain-activities-type',
    'domain-workflow-defs',
    'domain-temporal',
    'domain-other-package',
    'domain-sibling-loader',
    'api-workflow-impl',
    'api-workflows-index',
  ])('refuses the import in %s', (id) => {
    expect(rulesOf(id)).toContain(RESTRICTED);
  });

  it.each([
    'wf-activity-type',
    'wf-activities-index-type',
    'wf-allowed',
    'domain-calendar-loader',
    'domain-allowed',
    'below-api-allowed',
    'api-imports-activities',
    'registry-routes',
    'api-workflow-defs',
    'api-search-attributes',
    'activities-node',
  ])('accepts the imports in %s', (id) => {
    expect(rulesOf(id)).not.toContain(RESTRICTED);
  });

  it.each(['activities-api-service', 'activities-api-type', 'worker-api', 'db-api', 'platform-api', 'domain-api', 'calendar-loader-api', 'wf-api', 'wf-api-type'])(
    'refuses api/ below the API in %s, with the layering message',
    (id) => {
      expect(rulesOf(id)).toContain(RESTRICTED);
      expect(reported[id]?.map((m) => m.message).join('\n')).toMatch(/Layers point down|domain\/ imports only domain/);
    },
  );

  it('lets the process registry name route factories and nothing else of the API', () => {
    expect(rulesOf('registry-service')).toContain(RESTRICTED);
    expect(reported['registry-service']?.map((m) => m.message).join('\n')).toMatch(/route factories/);
  });

  it('forbids `process` in workflow code', () => {
    expect(rulesOf('wf-process')).toContain('no-restricted-globals');
    expect(rulesOf('wf-allowed')).not.toContain('no-restricted-globals');
  });

  it('forbids console outside scripts/ and bench/', () => {
    expect(rulesOf('activities-console')).toContain('no-console');
    expect(rulesOf('scripts-console')).not.toContain('no-console');
  });

  it('wants `import type` for imports used only as types', () => {
    expect(rulesOf('type-only-value-import')).toContain('@typescript-eslint/consistent-type-imports');
  });
});
