import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { signToken, type TokenClaims } from '../security/tokens';

/**
 * Mints a bearer token for local use, signed with this environment's JWT_SECRET:
 *   npm run token -- --role reviewer --sub alice
 *   npm run token -- --role merchant --merchant m-1001
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'ops' },
      sub: { type: 'string' },
      merchant: { type: 'string' },
      ttl: { type: 'string', default: '8h' },
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
  const token = await signToken(
    { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
    claims,
    values.ttl,
  );
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
