// Unit test of the browser test's step accounting (no browser): node --test tests/browser/steps.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSteps, verdict, skip, Failure } from './steps.mjs';

const quiet = () => {};

async function run(outcomes) {
  const { step, results } = createSteps(quiet);
  for (const [i, o] of outcomes.entries()) {
    await step(`step ${i}`, async () => {
      if (o === 'fail') throw new Failure('wrong');
      if (o === 'crash') throw new Error('boom');
      if (o === 'skip') return skip('not here');
      return undefined;
    });
  }
  return results;
}

test('a skipped step is counted as skipped, never as passed', async () => {
  const r = await run(['pass', 'skip', 'pass']);
  assert.equal(r.passed, 2);
  assert.equal(r.skipped, 1);
  assert.equal(r.failed, 0);
  assert.deepEqual(r.skips, ['step 1: not here']);
  assert.equal(verdict(r, { env: {} }).summary, 'console: 2 passed, 0 failed, 1 skipped');
});

test('with CI set, a skipped step fails the run', async () => {
  const r = await run(['pass', 'skip']);
  for (const CI of ['1', 'true']) {
    const v = verdict(r, { env: { CI } });
    assert.equal(v.ok, false, `CI=${CI}`);
    assert.match(v.problems.join('; '), /1 step\(s\) skipped/);
  }
});

test('CONSOLE_TEST_ALLOW_SKIPS=1 allows skips in CI; outside CI a skip is reported, not fatal', async () => {
  const r = await run(['pass', 'skip']);
  assert.equal(verdict(r, { env: { CI: '1', CONSOLE_TEST_ALLOW_SKIPS: '1' } }).ok, true);
  assert.equal(verdict(r, { env: {} }).ok, true);
  assert.equal(verdict(r, { env: { CI: '0' } }).ok, true);
  assert.equal(verdict(r, { env: { CI: '1', CONSOLE_TEST_ALLOW_SKIPS: '0' } }).ok, false);
});

test('a failed or crashed step, a crashed run, or only skips fail the run', async () => {
  assert.equal(verdict(await run(['pass', 'fail']), { env: {} }).ok, false);
  const crashed = await run(['pass', 'crash']);
  assert.equal(crashed.failed, 1);
  assert.match(crashed.failures[0], /boom/);
  assert.equal(verdict(crashed, { env: {} }).ok, false);
  assert.equal(verdict(await run(['pass']), { env: {}, crashed: true }).ok, false);
  assert.equal(verdict(await run(['skip', 'skip']), { env: {} }).ok, false, 'nothing passed');
  assert.equal(verdict(await run(['pass', 'pass']), { env: { CI: '1' } }).ok, true);
});
