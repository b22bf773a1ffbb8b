import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { keepHeartbeating } from '../../activities/heartbeat';

const quiet = (heartbeatDetails?: unknown) => new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails }, { logger: new DefaultLogger('ERROR') });

/** Resolves once the environment has seen `n` more heartbeats. */
const beatsSeen = (env: MockActivityEnvironment, n: number, beats: unknown[]) =>
  new Promise<void>((resolve) => {
    const target = beats.length + n;
    env.on('heartbeat', () => {
      if (beats.length >= target) resolve();
    });
  });

describe('keepHeartbeating', () => {
  test('a step that makes no progress still heartbeats, repeating the last progress as it was', async () => {
    const env = quiet();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => {
      const heartbeat = keepHeartbeating<{ after: string; done: number }>(10);
      try {
        const cursor = { after: 'm-1', done: 1 };
        heartbeat.progress(cursor);
        // A half-updated cursor is never what the ticker sends.
        cursor.after = 'm-2';
        await beatsSeen(env, 3, beats);
      } finally {
        heartbeat.stop();
      }
    });
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(new Set(beats.map((b) => JSON.stringify(b)))).toEqual(new Set([JSON.stringify({ after: 'm-1', done: 1 })]));
  });

  test('a retried attempt resumes from the last heartbeat, and the ticker repeats it until new progress', async () => {
    const env = quiet({ after: 'm-7', done: 7 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const resumed = await env.run(async () => {
      const heartbeat = keepHeartbeating<{ after: string; done: number }>(10);
      try {
        await beatsSeen(env, 1, beats);
        return heartbeat.resumed;
      } finally {
        heartbeat.stop();
      }
    });
    expect(resumed).toEqual({ after: 'm-7', done: 7 });
    expect(beats[0]).toEqual({ after: 'm-7', done: 7 });
  });
});
