// Where a worker thread's time goes, per request, from the .cpuprofile files `node --cpu-prof`
// writes (one per thread). V8's sampler records what was on the thread's stack every interval of
// wall time, so besides JavaScript it shows:
//   (idle)              the event loop waiting in epoll: no work
//   (garbage collector) the thread's own share of GC (helper threads are not in the profile)
//   writeBuffer / writev the system calls that send to a socket, *and* the time the thread sat
//                       preempted in them: on a saturated machine a write wakes the peer
//                       (php-fpm, the client), which may take the CPU until we are scheduled
//                       again; the sample then lands on the write. Read it as "write, or waiting
//                       for the CPU after one", not as the cost of the write.
//
// Usage: node bench/cpu-profile.ts DIR REQUESTS [top=30]
// Prints per thread profile (the busiest first): µs per request for those three, for all the
// rest (the JavaScript and the Node internals under it), then the top functions by self time.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [dir, requestsArg, topArg] = process.argv.slice(2);
const requests = Number(requestsArg);
if (dir === undefined || !(requests > 0)) {
  console.error('usage: node bench/cpu-profile.ts DIR REQUESTS [top=30]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const SYSTEM = new Set(['(idle)', '(garbage collector)', 'writeBuffer', 'writev', '(program)']);

function label(cf: CallFrame): string {
  const file = cf.url.replace(/^.*\/(src|node_modules)\//, '$1/').replace(/^node:/, '');
  return cf.url === ''
    ? cf.functionName || '(anonymous)'
    : `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
}

const summaries = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let busy = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const node = byId.get(p.samples[i]);
      if (node === undefined) continue;
      const us = p.timeDeltas[i] ?? 0;
      const key = label(node.callFrame);
      self.set(key, (self.get(key) ?? 0) + us);
      if (key !== '(idle)') busy += us;
    }
    return { file: f, self, busy };
  })
  .sort((a, b) => b.busy - a.busy);

const perRequest = (us: number) => (us / requests).toFixed(2).padStart(8);
for (const { file, self, busy } of summaries) {
  let rest = 0;
  for (const [key, us] of self) if (!SYSTEM.has(key)) rest += us;
  console.log(`\n${file}: ${perRequest(busy)} µs of non-idle wall time per request`);
  for (const key of ['(idle)', 'writeBuffer', 'writev', '(garbage collector)', '(program)']) {
    if (self.has(key)) console.log(`${perRequest(self.get(key)!)}  ${key}`);
  }
  console.log(`${perRequest(rest)}  everything else (JavaScript and the Node code it calls)`);
  console.log('  top functions by self time, µs per request:');
  const rows = [...self].filter(([key]) => !SYSTEM.has(key)).sort((a, b) => b[1] - a[1]);
  for (const [key, us] of rows.slice(0, top)) console.log(`${perRequest(us)}  ${key}`);
}
