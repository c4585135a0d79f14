// A minimal test runner printing TAP lines ("ok N - name", "not ok N - name" with "# " detail
// lines, then "1..N"), the format tests/run.sh counts. Tests run one after another, in order.
const tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

// skip(name, why): reported as passing with a SKIP directive, e.g. when a prerequisite failed.
export function skip(name, why) {
  tests.push({ name, skip: why });
}

export async function run() {
  let n = 0, failed = 0;
  for (const t of tests) {
    n++;
    if (t.skip) { console.log(`ok ${n} - ${t.name} # SKIP ${t.skip}`); continue; }
    try {
      await t.fn();
      console.log(`ok ${n} - ${t.name}`);
    } catch (err) {
      failed++;
      console.log(`not ok ${n} - ${t.name}`);
      for (const line of String((err && err.stack) || err).split('\n').slice(0, 12)) console.log('# ' + line);
    }
  }
  console.log(`1..${n}`);
  return failed;
}
