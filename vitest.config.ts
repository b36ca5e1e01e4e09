import { defineConfig } from "vitest/config";

// Unit tests run under Node: only pure modules (no bun:ffi, no Bun globals) may be imported.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
  },
});
