#!/usr/bin/env node
// The hyperv-sim command: a launcher only; everything is in main.ts. Bundled with the CLI kit
// and commander into dist/hyperv-sim.mjs by build-cli.mjs; the library it drives is the
// package's own dist/index.js.
import { launch } from "@hyperv-kvp/cli-kit";
import { main } from "./main.js";

launch((argv) => main(argv), { exitWhenDone: true });
