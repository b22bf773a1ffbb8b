import type { StartVerificationBody } from '../../api/verifications/schemas';
import { residentIdCheckCharacter, usccCheckCharacter } from '../../domain/identity';

// Valid by their check characters: the GB 11643 standard's own example, and a USCC
// whose GB 32100 check character is correct.
export const VALID_RESIDENT_ID = '11010519491231002X';
export const VALID_USCC = '91350100M000100Y43';

/** FNV-1a: a stable number per merchant id, to spread the derived identity numbers. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const char of text) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  return hash;
}

/**
 * A valid resident ID of one merchant's own (one identity number belongs to one merchant),
 * spelt like VALID_RESIDENT_ID where a mask shows it ('110***********002X'): the hidden
 * address digits and birth date vary, then the date moves on until the check is X again.
 */
export function residentIdOf(merchantId: string): string {
  const hash = stableHash(merchantId);
  const address = `110${String(hash % 1000).padStart(3, '0')}`;
  const day = new Date(Date.UTC(1940, 0, 1) + (Math.floor(hash / 1000) % 25_000) * 86_400_000);
  for (;; day.setUTCDate(day.getUTCDate() + 1)) {
    const first17 = `${address}${day.toISOString().slice(0, 10).replaceAll('-', '')}002`;
    if (residentIdCheckCharacter(first17) === 'X') return `${first17}X`;
  }
}

const USCC_CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A valid USCC of one merchant's own, masked like VALID_USCC ('91************0Y43'). */
export function usccOf(merchantId: string): string {
  for (let n = stableHash(merchantId); ; n += 1) {
    let middle = '';
    for (let rest = n, i = 0; i < 5; i += 1, rest = Math.floor(rest / 31)) middle += USCC_CODE_CHARS[rest % 31];
    const first17 = `91350100M${middle}0Y4`;
    if (usccCheckCharacter(first17) === '3') return `${first17}3`;
  }
}

export function individualRequest(merchantId: string): StartVerificationBody {
  return {
    merchantId,
    entityType: 'individual',
    legalName: '张三',
    idNumber: residentIdOf(merchantId),
    bankCard: { bankName: '中国工商银行', accountNumber: '6222020200112233445' },
    documents: [
      { kind: 'id_card_front', fileId: 'file-front' },
      { kind: 'id_card_back', fileId: 'file-back' },
      { kind: 'id_card_in_hand', fileId: 'file-in-hand' },
    ],
  };
}

export function enterpriseRequest(merchantId: string): StartVerificationBody {
  const uscc = usccOf(merchantId);
  return {
    merchantId,
    entityType: 'enterprise',
    legalName: '杭州示例电子商务有限公司',
    uscc,
    legalRepresentative: { name: '李四', idNumber: VALID_RESIDENT_ID },
    documents: [
      { kind: 'business_license', fileId: 'file-license' },
      { kind: 'legal_rep_id_front', fileId: 'file-rep-front' },
      { kind: 'legal_rep_id_back', fileId: 'file-rep-back' },
      { kind: 'account_opening_permit', fileId: 'file-permit' },
    ],
    boundStores: [
      { platform: 'taobao', storeId: 'tb-778899', realNameEntity: { name: '杭州示例电子商务有限公司', uscc } },
    ],
  };
}

/** Polls until `check` returns a value that `done` accepts (work on the worker is asynchronous). */
export async function eventually<T>(check: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (done(value)) return value;
    if (Date.now() > giveUpAt) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
