import fs from 'node:fs';
import os from 'node:os';

/**
 * CPU seconds spent by each part of a benchmark's stack while something is timed: this process
 * (the worker and its workflow threads), the processes it started (the Temporal server, the
 * partner sandbox) and the PostgreSQL server. On a small machine they share the cores, so a
 * wall-clock ratio says little without them. Linux only (/proc); elsewhere nothing is printed.
 */

const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it has reaped. */
  ticks: number;
  command: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command sits in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return { ppid: Number(fields[1]), ticks, command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) };
  } catch {
    return undefined;
  }
}

function allStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  return stats;
}

/** A process's CPU with its live descendants' (reaped ones are in its cutime already). */
function treeSeconds(root: number, stats: Map<number, ProcStat>): number {
  let ticks = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === pid) queue.push(child);
  }
  return ticks / TICKS_PER_SECOND;
}

export interface CpuParts {
  /** Label → the root process whose tree is counted. */
  roots: Record<string, number>;
  /** How this process is named in the figures (by default it runs the worker). */
  self?: string;
}

export type CpuSnapshot = Record<string, number>;

/** The CPU seconds of this process and of each named process tree, now. */
export function cpuSnapshot({ roots, self = 'this process (the worker)' }: CpuParts): CpuSnapshot | undefined {
  if (os.platform() !== 'linux' || !fs.existsSync('/proc/self/stat')) return undefined;
  const stats = allStats();
  const usage = process.cpuUsage();
  const snapshot: CpuSnapshot = { [self]: (usage.user + usage.system) / 1e6 };
  for (const [label, pid] of Object.entries(roots)) snapshot[label] = treeSeconds(pid, stats);
  return snapshot;
}

/** "this process (the worker) 64.1 s, postgres 37.2 s, … (145.6 s over 78.9 s: 1.85 of 2 cores)". */
export function describeCpu(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined, wallMs: number): string {
  if (!before || !after) return 'not measured (needs /proc)';
  const parts = Object.keys(after).map((label) => [label, after[label]! - (before[label] ?? 0)] as const);
  const total = parts.reduce((sum, [, s]) => sum + s, 0);
  const cores = os.availableParallelism();
  return `${parts.map(([label, s]) => `${label} ${s.toFixed(1)} s`).join(', ')} (${total.toFixed(1)} s over ${(wallMs / 1000).toFixed(1)} s: ${(total / (wallMs / 1000)).toFixed(2)} of ${cores} cores)`;
}

/** The PostgreSQL server's main process, when it runs on this machine: the parent of our backend. */
export function postmasterOf(backendPid: number): number | undefined {
  const backend = readStat(backendPid);
  const parent = backend ? readStat(backend.ppid) : undefined;
  return parent && /postgres/.test(parent.command) ? backend!.ppid : undefined;
}

/** The Temporal dev server this process started (a child running the CLI). */
export function temporalServerPid(): number | undefined {
  for (const [pid, stat] of allStats()) if (stat.ppid === process.pid && /temporal/.test(stat.command)) return pid;
  return undefined;
}
