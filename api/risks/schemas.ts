import { z } from 'zod';
import { bannedWordProblem, RISK_KINDS } from '../../domain/catalogue-risks';
import { pagingQuery } from '../pagination';
import { shopIdParams } from '../shops/schemas';
import { merchantIdSchema } from '../verifications/schemas';

/** A banned word as ops add it: trimmed, 1–20 characters, one line (domain/catalogue-risks.ts). */
const bannedWord = z
  .string()
  .trim()
  .superRefine((word, ctx) => {
    const problem = bannedWordProblem(word);
    if (problem) ctx.addIssue({ code: 'custom', message: `the word ${problem}` });
  })
  .describe('1–20 characters, not only blanks, one line; matched in titles and descriptions after NFKC folding and lower case');

export const addBannedWordsBody = z
  .object({
    words: z.array(bannedWord).min(1).max(100),
    source: z.string().trim().min(1).max(200).describe('where the words come from (a regulation, a platform notice, a ticket)'),
  })
  .strict();
export type AddBannedWordsBody = z.infer<typeof addBannedWordsBody>;

const listVersion = z.object({
  version: z.number().int(),
  wordsAdded: z.array(z.string()),
  addedBy: z.string(),
  source: z.string(),
  addedAt: z.string(),
});

export const bannedWordList = z.object({
  version: z.number().int().describe('the newest version: every finding names the version it was scanned with'),
  words: z.array(z.string()).describe('every word of every version so far'),
  versions: z.array(listVersion),
});

export const bannedWordsAdded = z.object({
  version: z.number().int().describe('the new version; the current one when every word was already listed'),
  added: z.array(z.string()).describe('the words new to the list (the others were listed already)'),
});

export const riskFindingListQuery = z
  .object({
    kind: z.enum(RISK_KINDS).optional(),
    status: z.enum(['open', 'fixed', 'closed']).optional(),
    shopId: shopIdParams.shape.shopId.optional().describe("one shop's findings (another merchant's shop lists nothing)"),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's findings; a merchant lists its own only"),
    ...pagingQuery,
  })
  .strict();
export type RiskFindingListQuery = z.output<typeof riskFindingListQuery>;

export const riskFindingItem = z.object({
  key: z.string().describe('risk:<bindingId>:<productId>:<kind>:<YYYY-MM-DD> (Shanghai day)'),
  bindingId: z.string(),
  productId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  kind: z.enum(RISK_KINDS),
  day: z.string(),
  details: z.record(z.string(), z.unknown()).describe('banned words: the words with their fields and the list version; prices: the prices and the reference'),
  status: z.enum(['open', 'fixed', 'closed']),
  caseId: z.string().nullable().describe('the violation case it opened (a price gap holds the listing instead)'),
  caseRefused: z.string().nullable().describe('why no case could be opened (the shop closed, …)'),
  foundAt: z.string(),
  fixedAt: z.string().nullable(),
  attachedToCaseAt: z.string().nullable().describe('when the fix went to the undecided case as evidence'),
});
