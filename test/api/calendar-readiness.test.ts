import express from 'express';
import request from 'supertest';
import type { Client } from '@temporalio/client';
import { createHealthRouter } from '../../api/health';
import { createCalendarSource } from '../../db/calendar-source';
import { createCalendarYearRepository } from '../../db/repositories/calendar-years';
import { createTestDb, type TestDb } from '../support/db';

// Temporal answers; only the calendar is under test here.
const temporal = { workflowService: { getSystemInfo: async () => ({}) } } as unknown as Client;

describe('readiness reports the working-day calendar', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createTestDb();
  });
  afterAll(async () => {
    await testDb?.destroy();
  });

  const readyAt = (now: string) =>
    request(express().use(createHealthRouter({ db: testDb.db, temporal, calendar: createCalendarSource(testDb.db), now: () => new Date(now) }))).get('/health/ready');

  test.each([
    // 31 December 2026 is the package's last day; 60 days before it is 1 November (Shanghai).
    ['2026-10-01T00:00:00Z', 91, false],
    ['2026-11-01T15:59:59Z', 60, false], // 23:59:59 on 1 November in Shanghai
    ['2026-11-01T16:00:00Z', 59, true], // midnight: 2 November in Shanghai
    ['2026-12-28T02:00:00Z', 3, true],
  ])('at %s: %i days left, warning %s; still ready', async (now, daysLeft, warning) => {
    const res = await readyAt(now);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', calendar: { officialThrough: '2026-12-31', daysLeft, warning } });
    if (warning) expect(res.body.calendar.message).toMatch(/load next year/);
    else expect(res.body.calendar.message).toBeUndefined();
  });

  test('a year loaded by ops extends the coverage at once', async () => {
    await createCalendarYearRepository(testDb.db).save(2027, { holidays: { '2027-01-01': '元旦' }, workdays: {} }, 'ada', new Date('2026-12-01T00:00:00Z'));
    const res = await readyAt('2026-12-28T02:00:00Z');
    expect(res.body.calendar).toEqual({ officialThrough: '2027-12-31', daysLeft: 368, warning: false });
  });
});
