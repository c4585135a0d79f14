// A minimal test runner printing TAP lines ("ok N - name", "not ok N - name" with "# " detail
// lines, then "1..N"), the format tests/run.sh counts. Tests run one after another, in order,
// except that consecutive tests given a lane run lane by lane at the same time (each lane's tests
// in order): the browser tests of Chromium and of Firefox wait mostly on their browser, not on
// the CPU. Lines are printed in the order the tests were registered either way.
const tests = [];

// test(name, fn, lane): lane is a string naming the tests that must not overlap, or undefined.
export function test(name, fn, lane) {
  tests.push({ name, fn, lane });
}

// skip(name, why): reported as passing with a SKIP directive, e.g. when a prerequisite failed.
export function skip(name, why) {
  tests.push({ name, skip: why });
}

// Thrown by a test that finds, while running, that it cannot apply (a page not built yet): the
// test is reported as passing with a SKIP directive carrying the message.
export class Skip extends Error {}

// The outcome of one test: null when it passed, else the error it threw.
async function outcome(t) {
  try {
    await t.fn();
    return null;
  } catch (err) {
    return err || new Error(String(err));
  }
}

// Starts the tests of tests[from..] that form one block (one unlaned test or skip, or a run of
// laned tests); returns the index after the block and a promise of each test's outcome.
function startBlock(from) {
  if (!tests[from].lane) return { next: from + 1, results: [tests[from].skip ? Promise.resolve(null) : outcome(tests[from])] };
  const chains = new Map(), results = [];
  let i = from;
  for (; i < tests.length && tests[i].lane; i++) {
    const t = tests[i];
    const r = (chains.get(t.lane) || Promise.resolve()).then(() => outcome(t));
    chains.set(t.lane, r);
    results.push(r);
  }
  return { next: i, results };
}

export async function run() {
  let n = 0, failed = 0;
  for (let i = 0; i < tests.length;) {
    const { next, results } = startBlock(i);
    for (const r of results) {
      const t = tests[i++];
      const err = await r;
      n++;
      if (t.skip) { console.log(`ok ${n} - ${t.name} # SKIP ${t.skip}`); continue; }
      if (!err) { console.log(`ok ${n} - ${t.name}`); continue; }
      if (err instanceof Skip) { console.log(`ok ${n} - ${t.name} # SKIP ${err.message}`); continue; }
      failed++;
      console.log(`not ok ${n} - ${t.name}`);
      for (const line of String(err.stack || err).split('\n').slice(0, 12)) console.log('# ' + line);
    }
    i = next;
  }
  console.log(`1..${n}`);
  return failed;
}
