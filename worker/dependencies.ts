import type { AppConfig } from '../config/config';
import type { Db } from '../db/connection';
import type { Client } from '@temporalio/client';
import { withPermanentDatabaseFailures } from '../activities/database-failures';
import { PROCESSES, type RegisteredProcess } from './registry';
import type { SettlementThresholds } from '../domain/settlement';
import { DEFAULT_DEPOSIT_POLICY, parseDepositPolicy, type DepositPolicy } from '../domain/deposit-policy';
import { DEFAULT_FULFILMENT_POLICY, parseFulfilmentPolicy, type FulfilmentPolicy } from '../domain/fulfilment';
import { calendarCoverage, createWorkingDayCalendar, shanghaiDate, type CalendarCoverage, type CalendarData, type CalendarSource, type WorkingDayCalendar } from '../domain/calendar';
import { createCalendarSource } from '../db/calendar-source';
import { loadCalendarFile } from '../domain/calendar-file';
import { festivalsOffOnWorkingDays } from '../domain/provisional-calendar';
import type { ReviewPolicy } from '../domain/verification';
import { createPlatformClient } from '../platform/client';
import type { PlatformClient } from '../platform/types';
import { createPartnerGateway } from '../platform/partners/client';
import type { PartnerGateway } from '../platform/partners/types';

export function reviewPolicyFrom(config: AppConfig): ReviewPolicy {
  return {
    slaWorkingDays: {
      individual: config.VERIFICATION_SLA_INDIVIDUAL_WORKING_DAYS,
      enterprise: config.VERIFICATION_SLA_ENTERPRISE_WORKING_DAYS,
    },
    resubmitWindowDays: config.VERIFICATION_RESUBMIT_WINDOW_DAYS,
  };
}

export function calendarFileData(config: AppConfig): CalendarData | undefined {
  return config.CALENDAR_EXTRA_PATH ? loadCalendarFile(config.CALENDAR_EXTRA_PATH) : undefined;
}

/** The package's calendar, plus a file of years it does not have yet (e.g. next year's holidays). */
export function calendarFrom(config: AppConfig): WorkingDayCalendar {
  return createWorkingDayCalendar(calendarFileData(config));
}

// An enterprise SLA of 5 working days spans about two weeks around Spring Festival;
// 60 days gives ops time to load next year's calendar before any deadline needs it.
const CALENDAR_LOOKAHEAD_DAYS = 60;

/** Says which day the calendar stops covering, when that is within the lookahead. */
export function calendarShortfall(calendar: WorkingDayCalendar, now: Date): string | undefined {
  const horizon = shanghaiDate(new Date(now.getTime() + CALENDAR_LOOKAHEAD_DAYS * 86_400_000));
  return calendar.covers(horizon) ? undefined : horizon;
}

/**
 * What the worker says about its calendar at start: how far the official data reaches (a
 * warning under 60 days), and a refusal when this host converts lunar dates wrongly (the
 * package uses local time: checked against the official years, see provisional-calendar.ts).
 */
export async function calendarAtStart(source: CalendarSource, now: Date): Promise<CalendarCoverage> {
  const calendar = await source.current();
  const wrong = festivalsOffOnWorkingDays((date) => calendar.isWorkingDay(date), calendar.loadedYears());
  if (wrong.length > 0) {
    throw new Error(`lunar holidays computed on this host fall on official working days (${wrong.slice(0, 3).join(', ')}); run with TZ=Asia/Shanghai`);
  }
  return calendarCoverage(calendar, now);
}

export function platformClientFrom(config: AppConfig): PlatformClient {
  return createPlatformClient({
    baseUrl: config.PLATFORM_BASE_URL,
    token: config.PLATFORM_API_TOKEN,
    timeoutMs: config.PLATFORM_TIMEOUT_MS,
  });
}

export function partnerGatewayFrom(config: AppConfig): PartnerGateway {
  return createPartnerGateway({
    baseUrl: config.PARTNER_BASE_URL,
    timeoutMs: config.PARTNER_TIMEOUT_MS,
    youzan: { appId: config.YOUZAN_APP_ID, appSecret: config.YOUZAN_APP_SECRET },
  });
}

export interface PartnerSettings {
  youzanRedirectUri: string;
  /** base64 of 32 bytes (AES-256-GCM). */
  secretsKey: string;
  refreshLeadSeconds: number;
}

export function partnerSettingsFrom(config: AppConfig): PartnerSettings {
  return { youzanRedirectUri: config.YOUZAN_REDIRECT_URI, secretsKey: config.PARTNER_SECRETS_KEY, refreshLeadSeconds: config.PARTNER_TOKEN_REFRESH_LEAD_SECONDS };
}

export function depositPolicyFrom(config: AppConfig): DepositPolicy {
  return config.DEPOSIT_POLICY_JSON ? parseDepositPolicy(config.DEPOSIT_POLICY_JSON) : DEFAULT_DEPOSIT_POLICY;
}

export interface ActivityDeps {
  db: Db;
  platform: PlatformClient;
  /** Package + file + years loaded by ops (calendar_years) + provisional years after them. */
  calendar: CalendarSource;
  policy: ReviewPolicy;
  depositPolicy: DepositPolicy;
  settlementThresholds: SettlementThresholds;
  /** Warning, tracking silence and compensation defaults (docs/rules.md §5.4). */
  fulfilmentPolicy: FulfilmentPolicy;
  /** Taobao Union, Youzan, JD Union, Pinduoduo (platform/partners/). */
  partners: PartnerGateway;
  /** Youzan's OAuth settings and the key partner secrets are sealed with. */
  partnerSettings: PartnerSettings;
  /** For activities that signal other processes (the monthly re-assessment). */
  temporal?: Client;
}

/** Everything the activities need, built from config over a database and a Temporal client. */
export function activityDepsFrom(config: AppConfig, db: Db, temporal?: Client): ActivityDeps {
  return {
    db,
    platform: platformClientFrom(config),
    partners: partnerGatewayFrom(config),
    partnerSettings: partnerSettingsFrom(config),
    calendar: createCalendarSource(db, calendarFileData(config)),
    policy: reviewPolicyFrom(config),
    depositPolicy: depositPolicyFrom(config),
    settlementThresholds: { unionFen: config.SETTLEMENT_UNION_THRESHOLD_FEN, shopFen: config.SETTLEMENT_SHOP_THRESHOLD_FEN },
    fulfilmentPolicy: config.FULFILMENT_POLICY_JSON ? parseFulfilmentPolicy(config.FULFILMENT_POLICY_JSON) : DEFAULT_FULFILMENT_POLICY,
    temporal,
  };
}

/**
 * Activities are registered by name: a group defining a name another group has would
 * silently replace it (and its workflow would run the wrong code), so that is refused.
 */
export function mergeActivityGroups<T extends Array<Record<string, unknown>>>(...groups: T): T[number] {
  const seen = new Set<string>();
  for (const name of groups.flatMap((g) => Object.keys(g))) {
    if (seen.has(name)) throw new Error(`two activity groups define ${name}`);
    seen.add(name);
  }
  return Object.assign({}, ...groups) as T[number];
}

/** Every activity the worker registers: each registered process's group, built over injected clients. */
export function createActivities(deps: ActivityDeps, processes: readonly RegisteredProcess[] = PROCESSES) {
  const groups = processes.flatMap((p) => (p.activities ? [p.activities(deps)] : []));
  return withPermanentDatabaseFailures(mergeActivityGroups(...groups));
}
