import type { StartVerificationBody } from '../../api/verifications/schemas';

// Valid by their check characters: the GB 11643 standard's own example, and a USCC
// whose GB 32100 check character is correct.
export const VALID_RESIDENT_ID = '11010519491231002X';
export const VALID_USCC = '91350100M000100Y43';

export function individualRequest(merchantId: string): StartVerificationBody {
  return {
    merchantId,
    entityType: 'individual',
    legalName: '张三',
    idNumber: VALID_RESIDENT_ID,
    bankCard: { bankName: '中国工商银行', accountNumber: '6222020200112233445' },
    documents: [
      { kind: 'id_card_front', fileId: 'file-front' },
      { kind: 'id_card_back', fileId: 'file-back' },
      { kind: 'id_card_in_hand', fileId: 'file-in-hand' },
    ],
  };
}

export function enterpriseRequest(merchantId: string): StartVerificationBody {
  return {
    merchantId,
    entityType: 'enterprise',
    legalName: '杭州示例电子商务有限公司',
    uscc: VALID_USCC,
    legalRepresentative: { name: '李四', idNumber: VALID_RESIDENT_ID },
    documents: [
      { kind: 'business_license', fileId: 'file-license' },
      { kind: 'legal_rep_id_front', fileId: 'file-rep-front' },
      { kind: 'legal_rep_id_back', fileId: 'file-rep-back' },
      { kind: 'account_opening_permit', fileId: 'file-permit' },
    ],
    boundStores: [
      { platform: 'taobao', storeId: 'tb-778899', realNameEntity: { name: '杭州示例电子商务有限公司', uscc: VALID_USCC } },
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
