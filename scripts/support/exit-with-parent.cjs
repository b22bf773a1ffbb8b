'use strict';
// Runs a command as its child and stops it when the process that started us dies, however it
// dies (even SIGKILL, which no handler sees): the parent holds the write end of our stdin, and
// the kernel closes it with the parent. `npm start` runs the Temporal dev server through this,
// in a process group of its own, so a killed dev stack never leaves the server holding its ports.
// Plain JavaScript: it must start in milliseconds, without a TypeScript loader.
const { spawn } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let forceTimer;

function stop() {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (!forceTimer) forceTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
}

process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
child.on('error', (err) => {
  process.stderr.write(`exit-with-parent: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGTERM' ? 0 : 1)));
