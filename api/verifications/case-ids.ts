import { randomBytes } from 'node:crypto';
import type { Principal } from '../auth';

/** Case ids are random: they say nothing about the merchant or the order of filing. */
export const newCaseId = (): string => `vc_${randomBytes(12).toString('hex')}`;

/** `role:subject`, as a case history names whoever acted. */
export const actorOf = (p: Principal): string => `${p.role}:${p.sub}`;
