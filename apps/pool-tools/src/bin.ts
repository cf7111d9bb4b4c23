#!/usr/bin/env node
// The kvp-pool command: a launcher only; everything is in main.ts.
import { launch } from "@hyperv-kvp/cli-kit";
import { main } from "./main.js";

launch((argv) => main(argv));
