import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{vdf,vault,cluster,cosigner,client-lib,cli,test}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['test/support/node-accelerators.ts'],
  },
});
