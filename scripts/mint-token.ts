import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { maxTokenLifetimeSeconds, signToken, type TokenClaims } from '../security/tokens';
import { runWhenMain } from './support/main';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** '90m', '12h', '3600s' or plain seconds, as a whole number of seconds. */
function parseTtl(ttl: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(ttl);
  if (!match) throw new Error(`--ttl must be a number of seconds or like 30m, 12h, 1d; got ${JSON.stringify(ttl)}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
}

/**
 * Mints a bearer token for local use, signed with this environment's JWT_SECRET. It lives
 * the longest its role is allowed (JWT_MAX_LIFETIME_*), or --ttl when that is shorter:
 *   npm run token -- --role reviewer --sub alice
 *   npm run token -- --role merchant --merchant m-1001 --ttl 2h
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'ops' },
      sub: { type: 'string' },
      merchant: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  const roles = ['ops', 'reviewer', 'finance', 'admin', 'merchant'];
  if (!roles.includes(values.role!)) throw new Error(`--role must be one of ${roles.join(', ')}`);
  if (values.role === 'merchant' && !values.merchant) throw new Error('a merchant token needs --merchant <merchantId>');
  const config = loadConfig();
  const claims: TokenClaims = {
    sub: values.sub ?? (values.role === 'merchant' ? `merchant-user-${values.merchant}` : `${values.role}-user`),
    role: values.role as TokenClaims['role'],
    ...(values.merchant ? { merchantId: values.merchant } : {}),
  };
  const cap = maxTokenLifetimeSeconds(claims.role, config);
  const lifetime = values.ttl === undefined ? cap : parseTtl(values.ttl);
  if (lifetime <= 0 || lifetime > cap) throw new Error(`--ttl for role ${claims.role} must be from 1 s to ${cap} s (the API refuses longer)`);
  const token = await signToken({ secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }, claims, lifetime);
  process.stdout.write(`${token}\n`);
}

runWhenMain(module, main);
