/**
 * The agent's version, reported to the host as `kvp-agent/version`. A constant rather than a
 * read of package.json at run time: the bundle ships without it. version.test.ts keeps the
 * two equal.
 */
export const AGENT_VERSION = "0.0.0";
