import { describe, expect, it } from 'vitest';
import { type BreakerState, CircuitBreaker } from '../../src/cache/circuit-breaker.js';

function setup(failureThreshold = 3, resetAfterMs = 1000) {
  let now = 10_000;
  const transitions: BreakerState[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold,
    resetAfterMs,
    now: () => now,
    onStateChange: (state) => transitions.push(state),
  });
  return {
    breaker,
    transitions,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, not after N failures interrupted by a success', () => {
    const { breaker, transitions } = setup(3);
    breaker.onFailure();
    breaker.onFailure();
    breaker.onSuccess();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.state).toBe('closed');
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['open']);
  });

  it('short-circuits while open and lets exactly one probe through after resetAfterMs', () => {
    const { breaker, transitions, advance } = setup(1, 1000);
    breaker.onFailure();
    expect(breaker.tryAcquire()).toBe(false);
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.tryAcquire()).toBe(false);
    expect(transitions).toEqual(['open', 'half-open']);
  });

  it('closes when the probe succeeds', () => {
    const { breaker, transitions, advance } = setup(2, 500);
    breaker.onFailure();
    breaker.onFailure();
    advance(500);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
    // Closing resets the count: it takes a full threshold of failures to open again.
    breaker.onFailure();
    expect(breaker.state).toBe('closed');
  });

  it('reopens for another full pause when the probe fails', () => {
    const { breaker, transitions, advance } = setup(1, 500);
    breaker.onFailure();
    advance(500);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    advance(499);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(transitions).toEqual(['open', 'half-open', 'open', 'half-open']);
  });

  it('reports each transition once even when late failures arrive while open', () => {
    const { breaker, transitions } = setup(2);
    for (let i = 0; i < 10; i++) breaker.onFailure();
    expect(transitions).toEqual(['open']);
  });

  it('validates its options', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => new CircuitBreaker({ resetAfterMs: -1 })).toThrow(/resetAfterMs/);
  });
});
