import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: { name: "@hyperv-kvp/cli-kit", include: ["src/**/*.test.ts"] },
});
