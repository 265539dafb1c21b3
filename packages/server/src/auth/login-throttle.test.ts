import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.js';

describe('LoginThrottle', () => {
  it('locks a username out after repeated failures, for a doubling time', () => {
    let now = 0;
    const throttle = new LoginThrottle(
      { maxFailures: 3, lockoutSeconds: 10, maxLockoutSeconds: 35 },
      () => now,
    );
    for (let i = 0; i < 2; i++) throttle.failure('Ada', '10.0.0.1');
    expect(throttle.check('ada', '10.0.0.2')).toBe(0);
    throttle.failure('ada', '10.0.0.1');
    expect(throttle.check('ADA ', '10.0.0.2')).toBe(10);
    now += 10_000;
    expect(throttle.check('ada', '10.0.0.2')).toBe(0);
    throttle.failure('ada', '10.0.0.1');
    expect(throttle.check('ada', '10.0.0.2')).toBe(20);
    now += 20_000;
    throttle.failure('ada', '10.0.0.1');
    expect(throttle.check('ada', '10.0.0.2')).toBe(35); // capped
  });

  it('treats unknown usernames exactly like real ones, and counts per address too', () => {
    const throttle = new LoginThrottle(
      { maxFailures: 100, maxFailuresPerAddress: 3, lockoutSeconds: 5 },
      () => 0,
    );
    for (const name of ['a', 'b', 'c']) throttle.failure(name, '10.0.0.9');
    expect(throttle.check('someone-else', '10.0.0.9')).toBe(5);
    expect(throttle.check('someone-else', '10.0.0.8')).toBe(0);
  });

  it('forgets failures after the window, and clears a username on success', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 2, lockoutSeconds: 1, windowSeconds: 60 }, () => now);
    throttle.failure('ada', 'x');
    now += 61_000;
    throttle.failure('ada', 'x');
    expect(throttle.check('ada', 'y')).toBe(0);
    throttle.failure('ada', 'x');
    expect(throttle.check('ada', 'y')).toBe(1);
    throttle.success('ada');
    expect(throttle.check('ada', 'y')).toBe(0);
  });
});

describe('LoginThrottle with attempts in flight', () => {
  it('lets no more parallel attempts through than failures are still allowed', () => {
    const throttle = new LoginThrottle(
      { maxFailures: 3, maxFailuresPerAddress: 100, lockoutSeconds: 30 },
      () => 0,
    );
    const begun = Array.from({ length: 10 }, () => throttle.begin('ada', '10.0.0.1'));
    expect(begun.filter((wait) => wait === 0)).toHaveLength(3);
    for (let i = 0; i < 3; i++) throttle.end('ada', '10.0.0.1', 'failure');
    expect(throttle.begin('ada', '10.0.0.1')).toBe(30);
  });

  it('frees the slot of an attempt that ended without a verdict, and clears on success', () => {
    const throttle = new LoginThrottle({ maxFailures: 2, lockoutSeconds: 5 }, () => 0);
    expect(throttle.begin('ada', 'x')).toBe(0);
    expect(throttle.begin('ada', 'x')).toBe(0);
    expect(throttle.begin('ada', 'x')).toBe(1);
    throttle.end('ada', 'x', 'error');
    throttle.end('ada', 'x', 'failure');
    expect(throttle.begin('ada', 'x')).toBe(0);
    throttle.end('ada', 'x', 'success');
    expect(throttle.begin('ada', 'x')).toBe(0);
    expect(throttle.begin('ada', 'x')).toBe(0);
  });
});
