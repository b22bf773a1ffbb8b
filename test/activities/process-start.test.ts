import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Knex } from 'knex';
import { startProcess, type ProcessRecord, type ProcessStart } from '../../activities/process-start';
import { ClosureAlreadyActive, ProcessAlreadyRunning, ProcessNotRecorded } from '../../domain/errors';
import { createTestDb, type TestDb } from '../support/db';

/**
 * The one function every process starts through: record first (in a transaction), then the
 * start; a start that fails takes the record back. Temporal is a fake whose start answers as
 * told and notes what the database held at that moment.
 */
describe('startProcess', () => {
  let t: TestDb;
  beforeAll(async () => {
    // The owner: this suite makes a table of its own, as a process's rows.
    t = await createTestDb({ as: 'owner' });
    await t.db.schema.createTable('process_start_rows', (table) => {
      table.text('id').primary();
      table.text('status').notNullable();
      table.text('run_id');
    });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  type Answer = () => Promise<{ firstExecutionRunId: string }>;

  /** A Temporal client whose start answers with each of `answers` in turn; what it was asked and saw. */
  function temporal(answers: Answer[], described: () => Promise<unknown> = () => Promise.reject(new WorkflowNotFoundError('none', 'w', undefined))) {
    const seen = { starts: [] as WorkflowStartOptions[], rowsAtStart: [] as unknown[], terminated: [] as Array<string | undefined> };
    const client = {
      workflow: {
        start: async (_type: string, options: WorkflowStartOptions) => {
          seen.starts.push(options);
          seen.rowsAtStart.push(await t.db('process_start_rows').where({ id: options.workflowId }).first());
          const answer = answers[seen.starts.length - 1] ?? answers[answers.length - 1]!;
          return answer();
        },
        getHandle: (_id: string, runId?: string) => ({
          describe: described,
          terminate: async () => {
            seen.terminated.push(runId);
          },
        }),
      },
    } as unknown as Client;
    return { client, seen };
  }
  const started: Answer = () => Promise.resolve({ firstExecutionRunId: 'run-1' });
  const alreadyStarted: Answer = () => Promise.reject(new WorkflowExecutionAlreadyStartedError('started', 'w', 'T'));
  const unreachable: Answer = () => Promise.reject(new Error('14 UNAVAILABLE: temporal is down'));

  const rowOf = (id: string) => t.db('process_start_rows').where({ id }).first();
  function recordOf(id: string, overrides: Partial<ProcessRecord> = {}): ProcessRecord {
    return {
      db: t.db,
      what: 'the row',
      write: async (trx: Knex.Transaction) => {
        await trx('process_start_rows').insert({ id, status: 'requested' });
      },
      started: (db, runId) => db('process_start_rows').where({ id }).update({ run_id: runId }).then(() => undefined),
      undo: (db) => db('process_start_rows').where({ id }).delete().then(() => undefined),
      ...overrides,
    };
  }
  function processOf(id: string, record?: ProcessRecord): ProcessStart<{ id: string }> {
    return {
      process: { workflowType: 'someProcess', processType: 'some_process', workflowId: (key) => `some:${key}`, replayPrefix: 'some-process-' },
      workflowId: id,
      taskQueue: 'q',
      input: { id },
      conflictPolicy: 'FAIL',
      reusePolicy: 'ALLOW_DUPLICATE',
      searchAttributes: { merchantId: 'm-1', status: 'requested' },
      about: { merchant: 'm-1', shop: 's-1' },
      ...(record ? { record } : {}),
    };
  }

  it('writes the record first, then starts with the id, policies and search attributes, then ties the record to the run', async () => {
    const { client, seen } = temporal([started]);
    expect(await startProcess(client, processOf('p-order', recordOf('p-order')))).toEqual({ workflowId: 'p-order', runId: 'run-1' });
    expect(seen.rowsAtStart).toEqual([{ id: 'p-order', status: 'requested', run_id: null }]);
    expect(seen.starts[0]).toMatchObject({ workflowId: 'p-order', taskQueue: 'q', args: [{ id: 'p-order' }], workflowIdConflictPolicy: 'FAIL', workflowIdReusePolicy: 'ALLOW_DUPLICATE' });
    // The Web UI's one line: what the process is, and for whom.
    expect(seen.starts[0]?.staticSummary).toBe('some_process · merchant m-1 · shop s-1');
    expect(seen.starts[0]?.typedSearchAttributes).toEqual([
      expect.objectContaining({ value: 'm-1' }),
      expect.objectContaining({ value: 'some_process' }),
      expect.objectContaining({ value: 'requested' }),
    ]);
    expect(await rowOf('p-order')).toEqual({ id: 'p-order', status: 'requested', run_id: 'run-1' });
  });

  it('a start Temporal cannot take leaves no row, and its error passes as it came', async () => {
    const { client } = temporal([unreachable], () => Promise.reject(new Error('14 UNAVAILABLE')));
    await expect(startProcess(client, processOf('p-down', recordOf('p-down')))).rejects.toThrow('temporal is down');
    expect(await rowOf('p-down')).toBeUndefined();
  });

  it('a run already going under the id is ProcessAlreadyRunning carrying the id, and the row is taken back', async () => {
    const { client } = temporal([alreadyStarted]);
    const refusal = startProcess(client, processOf('p-running', recordOf('p-running')));
    await expect(refusal).rejects.toBeInstanceOf(ProcessAlreadyRunning);
    await expect(refusal).rejects.toMatchObject({ workflowId: 'p-running' });
    expect(await rowOf('p-running')).toBeUndefined();
  });

  it('a run that is only finishing is asked again once instead of refused', async () => {
    const { client, seen } = temporal([alreadyStarted, started]);
    await startProcess(client, { ...processOf('p-finishing', recordOf('p-finishing')), finishing: () => Promise.resolve(true) });
    expect(seen.starts).toHaveLength(2);
    expect(await rowOf('p-finishing')).toMatchObject({ run_id: 'run-1' });
  });

  it('under USE_EXISTING a start that got through despite its error keeps its row: the run reads it', async () => {
    const { client } = temporal([unreachable], () => Promise.resolve({ status: { name: 'RUNNING' } }));
    const joining = { ...processOf('p-lost-answer', recordOf('p-lost-answer')), conflictPolicy: 'USE_EXISTING' as const };
    await expect(startProcess(client, joining)).rejects.toThrow('temporal is down');
    expect(await rowOf('p-lost-answer')).toMatchObject({ status: 'requested' });
  });

  it('under FAIL a run going after a failed start may be another request\'s: the row is taken back', async () => {
    const { client } = temporal([unreachable], () => Promise.resolve({ status: { name: 'RUNNING' } }));
    await expect(startProcess(client, processOf('p-someone-else', recordOf('p-someone-else')))).rejects.toThrow('temporal is down');
    expect(await rowOf('p-someone-else')).toBeUndefined();
  });

  it('a record that cannot be written is ProcessNotRecorded, with the database error as its cause, and nothing starts', async () => {
    const { client, seen } = temporal([started]);
    await t.db('process_start_rows').insert({ id: 'p-taken', status: 'requested' });
    const refusal = startProcess(client, processOf('p-taken', recordOf('p-taken')));
    await expect(refusal).rejects.toBeInstanceOf(ProcessNotRecorded);
    await expect(refusal).rejects.toMatchObject({ message: 'the row could not be recorded', cause: expect.any(Error) });
    expect(seen.starts).toEqual([]);
  });

  it("a domain refusal from the write passes as it is, and nothing starts", async () => {
    const { client, seen } = temporal([started]);
    const refusal = startProcess(client, processOf('p-refused', recordOf('p-refused', { write: () => Promise.reject(new ClosureAlreadyActive('one is open', 'cl_1')) })));
    await expect(refusal).rejects.toBeInstanceOf(ClosureAlreadyActive);
    expect(seen.starts).toEqual([]);
  });

  it('a run whose record cannot be tied to it at once stands with its row: nothing terminated, nothing taken back (its first step ties it)', async () => {
    const { client, seen } = temporal([started]);
    const outcome = await startProcess(client, processOf('p-untied', recordOf('p-untied', { started: () => Promise.reject(new Error('db down')) })));
    expect(outcome).toEqual({ workflowId: 'p-untied', runId: 'run-1' });
    expect(seen.terminated).toEqual([]);
    expect(await rowOf('p-untied')).toMatchObject({ id: 'p-untied', run_id: null });
  });

  it('without a record it only starts', async () => {
    const { client, seen } = temporal([alreadyStarted]);
    await expect(startProcess(client, processOf('p-bare'))).rejects.toBeInstanceOf(ProcessAlreadyRunning);
    expect(seen.starts).toHaveLength(1);
  });
});
