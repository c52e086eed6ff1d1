// Steps of the browser test and the run's verdict: each step passes, fails, or is skipped (it could not
// run here, with the reason). A skipped step is never counted as passed. Where CI is set (scripts/test.sh
// sets CI=1), a skipped step fails the run — something the test should have checked was not — unless
// CONSOLE_TEST_ALLOW_SKIPS=1 says skips are expected; elsewhere it is reported apart and warned about.

export class Failure extends Error {}

/** A step's way to say it could not run here, and why. */
export const skip = (reason) => ({ skip: String(reason) });

const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

/** Step runner: `step(name, fn)` runs `fn`, logs `ok`/`SKIP`/`FAIL` and counts it in `results`. */
export function createSteps(log) {
  const results = { passed: 0, failed: 0, skipped: 0, skips: [], failures: [] };
  async function step(name, fn) {
    try {
      const r = await fn();
      if (r && typeof r === 'object' && 'skip' in r) {
        results.skipped += 1;
        results.skips.push(`${name}: ${r.skip}`);
        log(`SKIP ${name}: ${r.skip}`);
        return false;
      }
      results.passed += 1;
      log(`ok   ${name}`);
      return true;
    } catch (e) {
      results.failed += 1;
      const why = e instanceof Failure ? e.message : (e && e.stack) || String(e);
      results.failures.push(`${name}: ${why}`);
      log(`FAIL ${name}: ${why}`);
      return false;
    }
  }
  return { step, results };
}

/**
 * The run's verdict from its counts: `{ ok, summary, problems }`. Fails on a failed step, a crash, no
 * passed step at all, or — where CI is set and CONSOLE_TEST_ALLOW_SKIPS is not — a skipped step.
 */
export function verdict(results, { crashed = false, env = process.env } = {}) {
  const strict = truthy(env.CI) && !truthy(env.CONSOLE_TEST_ALLOW_SKIPS);
  const problems = [];
  if (crashed) problems.push('the run crashed');
  if (results.failed > 0) problems.push(`${results.failed} step(s) failed`);
  if (results.passed === 0) problems.push('no step passed');
  if (results.skipped > 0) {
    if (strict) {
      problems.push(`${results.skipped} step(s) skipped with CI set (CONSOLE_TEST_ALLOW_SKIPS=1 allows skips)`);
    }
  }
  const summary = `console: ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`;
  return { ok: problems.length === 0, summary, problems, strict };
}
