#!/usr/bin/env node
// The kvp-agent command: a launcher only; everything is in main.ts.
import { launch } from "@hyperv-kvp/cli-kit";
import { main } from "./main.js";

// `run` and `wait` leave nothing pending when done; exit anyway so a stray handle (a hook's
// pipe) cannot keep a stopped service alive past systemd's stop timeout.
launch((argv) => main(argv), { exitWhenDone: true });
