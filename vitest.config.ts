import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Suites start real servers (mock upstream, gateway, redis-server) on port 0; files run in parallel.
    pool: 'forks',
  },
});
