import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { EntityIdentity } from '../domain/verification';

/**
 * Personal data (ID numbers, bank card numbers) is encrypted at rest with AES-256-GCM.
 * The stored form is `v1.<iv>.<tag>.<ciphertext>` in base64url, so a key rotation can
 * add `v2` without guessing. Only roles that need the clear value ever get it back.
 *
 * Beside it, an entity's identity number gets a keyed hash (HMAC-SHA256 under a key of its
 * own, hex), so the database can hold one number to one merchant with a unique index
 * without the clear value. Never a plain hash: an ID number is guessable (address code,
 * birth date, sequence, check digit), a keyed hash is not without the key.
 */
export interface PiiVault {
  seal(clear: string): string;
  open(sealed: string): string;
  /** The keyed hash of a normalised identity number (domain/verification.ts entityIdentity). */
  identityKey(identity: EntityIdentity): string;
}

/** AES-256-GCM under one key, in the `v1.<iv>.<tag>.<ciphertext>` form: PII and partner secrets alike. */
export interface Sealer {
  seal(clear: string): string;
  open(sealed: string): string;
}

export function createSealer(base64Key: string, name = 'PII key'): Sealer {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error(`${name} must be 32 bytes`);
  return {
    seal(clear) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(clear, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unrecognised sealed value');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

export function createPiiVault(base64Key: string, base64IdentityHashKey: string): PiiVault {
  const sealer = createSealer(base64Key);
  const hashKey = Buffer.from(base64IdentityHashKey, 'base64');
  if (hashKey.length < 32) throw new Error('identity hash key must be at least 32 bytes');
  return {
    seal: sealer.seal,
    open: sealer.open,
    identityKey({ kind, number }) {
      // The kind is part of the message: a resident ID and a USCC never share a key.
      return createHmac('sha256', hashKey).update(`${kind}:${number}`, 'utf8').digest('hex');
    },
  };
}

/** The vault of a configuration: both keys come from the one config. */
export const piiVaultFrom = (config: { PII_ENCRYPTION_KEY: string; IDENTITY_HASH_KEY: string }): PiiVault =>
  createPiiVault(config.PII_ENCRYPTION_KEY, config.IDENTITY_HASH_KEY);
