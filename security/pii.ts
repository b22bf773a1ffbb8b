import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Personal data (ID numbers, bank card numbers) is encrypted at rest with AES-256-GCM.
 * The stored form is `v1.<iv>.<tag>.<ciphertext>` in base64url, so a key rotation can
 * add `v2` without guessing. Only roles that need the clear value ever get it back.
 */
export interface PiiVault {
  seal(clear: string): string;
  open(sealed: string): string;
}

export function createPiiVault(base64Key: string): PiiVault {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error('PII key must be 32 bytes');
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
