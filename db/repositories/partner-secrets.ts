import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createSealer } from '../../security/pii';

export type PartnerSecretKind = 'access_token' | 'refresh_token' | 'authorisation_code';

/** What a retired secret's cipher becomes: nothing left to open. */
const WIPED = '';

/**
 * The partner secrets vault: tokens and authorisation codes sealed with PARTNER_SECRETS_KEY
 * (AES-256-GCM, security/pii.ts), stored by id. Workflows carry only the id; activities open
 * the secret by id when they call the partner. A secret that was replaced or whose binding
 * ended is retired and its cipher wiped, so the database keeps no usable old token.
 */
export function createPartnerSecrets(db: Knex, base64Key: string) {
  const sealer = createSealer(base64Key, 'PARTNER_SECRETS_KEY');
  return {
    async store(bindingId: string, kind: PartnerSecretKind, clear: string, trx: Knex = db): Promise<string> {
      const id = `sec_${randomBytes(12).toString('hex')}`;
      await trx('partner_secrets').insert({ id, binding_id: bindingId, kind, cipher: sealer.seal(clear) });
      return id;
    },

    /** The clear secret, or null when it was retired (or never existed). */
    async open(id: string, trx: Knex = db): Promise<string | null> {
      const row = await trx('partner_secrets').where({ id }).whereNull('retired_at').first<{ cipher: string } | undefined>('cipher');
      return row && row.cipher !== WIPED ? sealer.open(row.cipher) : null;
    },

    async retire(ids: string[], trx: Knex = db): Promise<void> {
      if (ids.length === 0) return;
      await trx('partner_secrets').whereIn('id', ids).update({ cipher: WIPED, retired_at: trx.fn.now() });
    },

    /** Every live secret of a binding (a kind, or all), retired at once: the binding ended or needs authorising again. */
    async retireAllOf(bindingId: string, kinds?: PartnerSecretKind[], trx: Knex = db): Promise<void> {
      const q = trx('partner_secrets').where({ binding_id: bindingId }).whereNull('retired_at');
      if (kinds) q.whereIn('kind', kinds);
      await q.update({ cipher: WIPED, retired_at: trx.fn.now() });
    },
  };
}

export type PartnerSecrets = ReturnType<typeof createPartnerSecrets>;
