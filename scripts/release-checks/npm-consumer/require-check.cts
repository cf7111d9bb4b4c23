// A CommonJS TypeScript file importing an ES-module-only package.
import { encodePool } from "@hyperv-kvp/kvp-core";

export const size: number = encodePool([{ key: "Role", value: "web" }]).length;
