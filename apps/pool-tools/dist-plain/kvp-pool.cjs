#!/usr/bin/env node
const __kvpBundleUrl = require("node:url").pathToFileURL(__filename).href;
("use strict");
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __commonJS = (cb, mod) =>
  function __require() {
    try {
      return (mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports);
    } catch (e) {
      throw ((mod = 0), e);
    }
  };
var __copyProps = (to, from, except, desc) => {
  if ((from && typeof from === "object") || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, {
          get: () => from[key],
          enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable,
        });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (
  (target = mod != null ? __create(__getProtoOf(mod)) : {}),
  __copyProps(
    // If the importer is in node compatibility mode or this is not an ESM
    // file that has been converted to a CommonJS file using a Babel-
    // compatible transform (i.e. "__esModule" has not been set), then set
    // "default" to the CommonJS "module.exports" for node compatibility.
    isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
    mod,
  )
);

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/error.js
var require_error = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/error.js"(exports2) {
    var CommanderError2 = class extends Error {
      /**
       * Constructs the CommanderError class
       * @param {number} exitCode suggested exit code which could be used with process.exit
       * @param {string} code an id string representing the error
       * @param {string} message human-readable description of the error
       */
      constructor(exitCode, code, message) {
        super(message);
        Error.captureStackTrace(this, this.constructor);
        this.name = this.constructor.name;
        this.code = code;
        this.exitCode = exitCode;
        this.nestedError = void 0;
      }
    };
    var InvalidArgumentError2 = class extends CommanderError2 {
      /**
       * Constructs the InvalidArgumentError class
       * @param {string} [message] explanation of why argument is invalid
       */
      constructor(message) {
        super(1, "commander.invalidArgument", message);
        Error.captureStackTrace(this, this.constructor);
        this.name = this.constructor.name;
      }
    };
    exports2.CommanderError = CommanderError2;
    exports2.InvalidArgumentError = InvalidArgumentError2;
  },
});

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/argument.js
var require_argument = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/argument.js"(exports2) {
    var { InvalidArgumentError: InvalidArgumentError2 } = require_error();
    var Argument2 = class {
      /**
       * Initialize a new command argument with the given name and description.
       * The default is that the argument is required, and you can explicitly
       * indicate this with <> around the name. Put [] around the name for an optional argument.
       *
       * @param {string} name
       * @param {string} [description]
       */
      constructor(name, description) {
        this.description = description || "";
        this.variadic = false;
        this.parseArg = void 0;
        this.defaultValue = void 0;
        this.defaultValueDescription = void 0;
        this.argChoices = void 0;
        switch (name[0]) {
          case "<":
            this.required = true;
            this._name = name.slice(1, -1);
            break;
          case "[":
            this.required = false;
            this._name = name.slice(1, -1);
            break;
          default:
            this.required = true;
            this._name = name;
            break;
        }
        if (this._name.endsWith("...")) {
          this.variadic = true;
          this._name = this._name.slice(0, -3);
        }
      }
      /**
       * Return argument name.
       *
       * @return {string}
       */
      name() {
        return this._name;
      }
      /**
       * @package
       */
      _collectValue(value, previous) {
        if (previous === this.defaultValue || !Array.isArray(previous)) {
          return [value];
        }
        previous.push(value);
        return previous;
      }
      /**
       * Set the default value, and optionally supply the description to be displayed in the help.
       *
       * @param {*} value
       * @param {string} [description]
       * @return {Argument}
       */
      default(value, description) {
        this.defaultValue = value;
        this.defaultValueDescription = description;
        return this;
      }
      /**
       * Set the custom handler for processing CLI command arguments into argument values.
       *
       * @param {Function} [fn]
       * @return {Argument}
       */
      argParser(fn) {
        this.parseArg = fn;
        return this;
      }
      /**
       * Only allow argument value to be one of choices.
       *
       * @param {string[]} values
       * @return {Argument}
       */
      choices(values) {
        this.argChoices = values.slice();
        this.parseArg = (arg, previous) => {
          if (!this.argChoices.includes(arg)) {
            throw new InvalidArgumentError2(`Allowed choices are ${this.argChoices.join(", ")}.`);
          }
          if (this.variadic) {
            return this._collectValue(arg, previous);
          }
          return arg;
        };
        return this;
      }
      /**
       * Make argument required.
       *
       * @returns {Argument}
       */
      argRequired() {
        this.required = true;
        return this;
      }
      /**
       * Make argument optional.
       *
       * @returns {Argument}
       */
      argOptional() {
        this.required = false;
        return this;
      }
    };
    function humanReadableArgName(arg) {
      const nameOutput = arg.name() + (arg.variadic === true ? "..." : "");
      return arg.required ? "<" + nameOutput + ">" : "[" + nameOutput + "]";
    }
    exports2.Argument = Argument2;
    exports2.humanReadableArgName = humanReadableArgName;
  },
});

// lazy-builtin:child_process
var require_child_process = __commonJS({
  "lazy-builtin:child_process"(exports2, module2) {
    "use strict";
    var m;
    var load = () => (m ??= require("node:child_process"));
    var keys = [
      "_forkChild",
      "ChildProcess",
      "exec",
      "execFile",
      "execFileSync",
      "execSync",
      "fork",
      "spawn",
      "spawnSync",
    ];
    module2.exports = new Proxy(
      {},
      {
        // esbuild's helper asks for __esModule before anything is used; no built-in has it.
        get: (_, k) => (k === "__esModule" && m === void 0 ? void 0 : load()[k]),
        has: (_, k) => k in load(),
        ownKeys: () => (m === void 0 ? [...keys] : Reflect.ownKeys(m)),
        getOwnPropertyDescriptor: (_, k) =>
          m === void 0 && keys.includes(k)
            ? { configurable: true, enumerable: true, get: () => load()[k] }
            : Reflect.getOwnPropertyDescriptor(load(), k) && {
                ...Reflect.getOwnPropertyDescriptor(m, k),
                configurable: true,
              },
        getPrototypeOf: () => Object.prototype,
      },
    );
  },
});

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/help.js
var require_help = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/help.js"(exports2) {
    var { humanReadableArgName } = require_argument();
    var Help2 = class {
      constructor() {
        this.helpWidth = void 0;
        this.minWidthToWrap = 40;
        this.sortSubcommands = false;
        this.sortOptions = false;
        this.showGlobalOptions = false;
      }
      /**
       * prepareContext is called by Commander after applying overrides from `Command.configureHelp()`
       * and just before calling `formatHelp()`.
       *
       * Commander just uses the helpWidth and the rest is provided for optional use by more complex subclasses.
       *
       * @param {{ error?: boolean, helpWidth?: number, outputHasColors?: boolean }} contextOptions
       */
      prepareContext(contextOptions) {
        this.helpWidth = this.helpWidth ?? contextOptions.helpWidth ?? 80;
      }
      /**
       * Get an array of the visible subcommands. Includes a placeholder for the implicit help command, if there is one.
       *
       * @param {Command} cmd
       * @returns {Command[]}
       */
      visibleCommands(cmd) {
        const visibleCommands = cmd.commands.filter((cmd2) => !cmd2._hidden);
        const helpCommand = cmd._getHelpCommand();
        if (helpCommand && !helpCommand._hidden) {
          visibleCommands.push(helpCommand);
        }
        if (this.sortSubcommands) {
          visibleCommands.sort((a, b) => {
            return a.name().localeCompare(b.name());
          });
        }
        return visibleCommands;
      }
      /**
       * Compare options for sort.
       *
       * @param {Option} a
       * @param {Option} b
       * @returns {number}
       */
      compareOptions(a, b) {
        const getSortKey = (option) => {
          return option.short ? option.short.replace(/^-/, "") : option.long.replace(/^--/, "");
        };
        return getSortKey(a).localeCompare(getSortKey(b));
      }
      /**
       * Get an array of the visible options. Includes a placeholder for the implicit help option, if there is one.
       *
       * @param {Command} cmd
       * @returns {Option[]}
       */
      visibleOptions(cmd) {
        const visibleOptions = cmd.options.filter((option) => !option.hidden);
        const helpOption = cmd._getHelpOption();
        if (helpOption && !helpOption.hidden) {
          const removeShort = helpOption.short && cmd._findOption(helpOption.short);
          const removeLong = helpOption.long && cmd._findOption(helpOption.long);
          if (!removeShort && !removeLong) {
            visibleOptions.push(helpOption);
          } else if (helpOption.long && !removeLong) {
            visibleOptions.push(cmd.createOption(helpOption.long, helpOption.description));
          } else if (helpOption.short && !removeShort) {
            visibleOptions.push(cmd.createOption(helpOption.short, helpOption.description));
          }
        }
        if (this.sortOptions) {
          visibleOptions.sort(this.compareOptions);
        }
        return visibleOptions;
      }
      /**
       * Get an array of the visible global options. (Not including help.)
       *
       * @param {Command} cmd
       * @returns {Option[]}
       */
      visibleGlobalOptions(cmd) {
        if (!this.showGlobalOptions) return [];
        const globalOptions = [];
        for (let ancestorCmd = cmd.parent; ancestorCmd; ancestorCmd = ancestorCmd.parent) {
          const visibleOptions = ancestorCmd.options.filter((option) => !option.hidden);
          globalOptions.push(...visibleOptions);
        }
        if (this.sortOptions) {
          globalOptions.sort(this.compareOptions);
        }
        return globalOptions;
      }
      /**
       * Get an array of the arguments if any have a description.
       *
       * @param {Command} cmd
       * @returns {Argument[]}
       */
      visibleArguments(cmd) {
        if (cmd._argsDescription) {
          cmd.registeredArguments.forEach((argument) => {
            argument.description = argument.description || cmd._argsDescription[argument.name()] || "";
          });
        }
        if (cmd.registeredArguments.find((argument) => argument.description)) {
          return cmd.registeredArguments;
        }
        return [];
      }
      /**
       * Get the command term to show in the list of subcommands.
       *
       * @param {Command} cmd
       * @returns {string}
       */
      subcommandTerm(cmd) {
        const args = cmd.registeredArguments.map((arg) => humanReadableArgName(arg)).join(" ");
        return (
          cmd._name +
          (cmd._aliases[0] ? "|" + cmd._aliases[0] : "") +
          (cmd.options.length ? " [options]" : "") + // simplistic check for non-help option
          (args ? " " + args : "")
        );
      }
      /**
       * Get the option term to show in the list of options.
       *
       * @param {Option} option
       * @returns {string}
       */
      optionTerm(option) {
        return option.flags;
      }
      /**
       * Get the argument term to show in the list of arguments.
       *
       * @param {Argument} argument
       * @returns {string}
       */
      argumentTerm(argument) {
        return argument.name();
      }
      /**
       * Get the longest command term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestSubcommandTermLength(cmd, helper) {
        return helper.visibleCommands(cmd).reduce((max, command) => {
          return Math.max(max, this.displayWidth(helper.styleSubcommandTerm(helper.subcommandTerm(command))));
        }, 0);
      }
      /**
       * Get the longest option term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestOptionTermLength(cmd, helper) {
        return helper.visibleOptions(cmd).reduce((max, option) => {
          return Math.max(max, this.displayWidth(helper.styleOptionTerm(helper.optionTerm(option))));
        }, 0);
      }
      /**
       * Get the longest global option term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestGlobalOptionTermLength(cmd, helper) {
        return helper.visibleGlobalOptions(cmd).reduce((max, option) => {
          return Math.max(max, this.displayWidth(helper.styleOptionTerm(helper.optionTerm(option))));
        }, 0);
      }
      /**
       * Get the longest argument term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestArgumentTermLength(cmd, helper) {
        return helper.visibleArguments(cmd).reduce((max, argument) => {
          return Math.max(max, this.displayWidth(helper.styleArgumentTerm(helper.argumentTerm(argument))));
        }, 0);
      }
      /**
       * Get the command usage to be displayed at the top of the built-in help.
       *
       * @param {Command} cmd
       * @returns {string}
       */
      commandUsage(cmd) {
        let cmdName = cmd._name;
        if (cmd._aliases[0]) {
          cmdName = cmdName + "|" + cmd._aliases[0];
        }
        let ancestorCmdNames = "";
        for (let ancestorCmd = cmd.parent; ancestorCmd; ancestorCmd = ancestorCmd.parent) {
          ancestorCmdNames = ancestorCmd.name() + " " + ancestorCmdNames;
        }
        return ancestorCmdNames + cmdName + " " + cmd.usage();
      }
      /**
       * Get the description for the command.
       *
       * @param {Command} cmd
       * @returns {string}
       */
      commandDescription(cmd) {
        return cmd.description();
      }
      /**
       * Get the subcommand summary to show in the list of subcommands.
       * (Fallback to description for backwards compatibility.)
       *
       * @param {Command} cmd
       * @returns {string}
       */
      subcommandDescription(cmd) {
        return cmd.summary() || cmd.description();
      }
      /**
       * Get the option description to show in the list of options.
       *
       * @param {Option} option
       * @return {string}
       */
      optionDescription(option) {
        const extraInfo = [];
        if (option.argChoices) {
          extraInfo.push(
            // use stringify to match the display of the default value
            `choices: ${option.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`,
          );
        }
        if (option.defaultValue !== void 0) {
          const showDefault =
            option.required || option.optional || (option.isBoolean() && typeof option.defaultValue === "boolean");
          if (showDefault) {
            extraInfo.push(`default: ${option.defaultValueDescription || JSON.stringify(option.defaultValue)}`);
          }
        }
        if (option.presetArg !== void 0 && option.optional) {
          extraInfo.push(`preset: ${JSON.stringify(option.presetArg)}`);
        }
        if (option.envVar !== void 0) {
          extraInfo.push(`env: ${option.envVar}`);
        }
        if (extraInfo.length > 0) {
          const extraDescription = `(${extraInfo.join(", ")})`;
          if (option.description) {
            return `${option.description} ${extraDescription}`;
          }
          return extraDescription;
        }
        return option.description;
      }
      /**
       * Get the argument description to show in the list of arguments.
       *
       * @param {Argument} argument
       * @return {string}
       */
      argumentDescription(argument) {
        const extraInfo = [];
        if (argument.argChoices) {
          extraInfo.push(
            // use stringify to match the display of the default value
            `choices: ${argument.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`,
          );
        }
        if (argument.defaultValue !== void 0) {
          extraInfo.push(`default: ${argument.defaultValueDescription || JSON.stringify(argument.defaultValue)}`);
        }
        if (extraInfo.length > 0) {
          const extraDescription = `(${extraInfo.join(", ")})`;
          if (argument.description) {
            return `${argument.description} ${extraDescription}`;
          }
          return extraDescription;
        }
        return argument.description;
      }
      /**
       * Format a list of items, given a heading and an array of formatted items.
       *
       * @param {string} heading
       * @param {string[]} items
       * @param {Help} helper
       * @returns string[]
       */
      formatItemList(heading, items, helper) {
        if (items.length === 0) return [];
        return [helper.styleTitle(heading), ...items, ""];
      }
      /**
       * Group items by their help group heading.
       *
       * @param {Command[] | Option[]} unsortedItems
       * @param {Command[] | Option[]} visibleItems
       * @param {Function} getGroup
       * @returns {Map<string, Command[] | Option[]>}
       */
      groupItems(unsortedItems, visibleItems, getGroup) {
        const result = /* @__PURE__ */ new Map();
        unsortedItems.forEach((item) => {
          const group = getGroup(item);
          if (!result.has(group)) result.set(group, []);
        });
        visibleItems.forEach((item) => {
          const group = getGroup(item);
          if (!result.has(group)) {
            result.set(group, []);
          }
          result.get(group).push(item);
        });
        return result;
      }
      /**
       * Generate the built-in help text.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {string}
       */
      formatHelp(cmd, helper) {
        const termWidth = helper.padWidth(cmd, helper);
        const helpWidth = helper.helpWidth ?? 80;
        function callFormatItem(term, description) {
          return helper.formatItem(term, termWidth, description, helper);
        }
        let output = [`${helper.styleTitle("Usage:")} ${helper.styleUsage(helper.commandUsage(cmd))}`, ""];
        const commandDescription = helper.commandDescription(cmd);
        if (commandDescription.length > 0) {
          output = output.concat([helper.boxWrap(helper.styleCommandDescription(commandDescription), helpWidth), ""]);
        }
        const argumentList = helper.visibleArguments(cmd).map((argument) => {
          return callFormatItem(
            helper.styleArgumentTerm(helper.argumentTerm(argument)),
            helper.styleArgumentDescription(helper.argumentDescription(argument)),
          );
        });
        output = output.concat(this.formatItemList("Arguments:", argumentList, helper));
        const optionGroups = this.groupItems(
          cmd.options,
          helper.visibleOptions(cmd),
          (option) => option.helpGroupHeading ?? "Options:",
        );
        optionGroups.forEach((options, group) => {
          const optionList = options.map((option) => {
            return callFormatItem(
              helper.styleOptionTerm(helper.optionTerm(option)),
              helper.styleOptionDescription(helper.optionDescription(option)),
            );
          });
          output = output.concat(this.formatItemList(group, optionList, helper));
        });
        if (helper.showGlobalOptions) {
          const globalOptionList = helper.visibleGlobalOptions(cmd).map((option) => {
            return callFormatItem(
              helper.styleOptionTerm(helper.optionTerm(option)),
              helper.styleOptionDescription(helper.optionDescription(option)),
            );
          });
          output = output.concat(this.formatItemList("Global Options:", globalOptionList, helper));
        }
        const commandGroups = this.groupItems(
          cmd.commands,
          helper.visibleCommands(cmd),
          (sub) => sub.helpGroup() || "Commands:",
        );
        commandGroups.forEach((commands, group) => {
          const commandList = commands.map((sub) => {
            return callFormatItem(
              helper.styleSubcommandTerm(helper.subcommandTerm(sub)),
              helper.styleSubcommandDescription(helper.subcommandDescription(sub)),
            );
          });
          output = output.concat(this.formatItemList(group, commandList, helper));
        });
        return output.join("\n");
      }
      /**
       * Return display width of string, ignoring ANSI escape sequences. Used in padding and wrapping calculations.
       *
       * @param {string} str
       * @returns {number}
       */
      displayWidth(str) {
        return stripColor(str).length;
      }
      /**
       * Style the title for displaying in the help. Called with 'Usage:', 'Options:', etc.
       *
       * @param {string} str
       * @returns {string}
       */
      styleTitle(str) {
        return str;
      }
      styleUsage(str) {
        return str
          .split(" ")
          .map((word) => {
            if (word === "[options]") return this.styleOptionText(word);
            if (word === "[command]") return this.styleSubcommandText(word);
            if (word[0] === "[" || word[0] === "<") return this.styleArgumentText(word);
            return this.styleCommandText(word);
          })
          .join(" ");
      }
      styleCommandDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleOptionDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleSubcommandDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleArgumentDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleDescriptionText(str) {
        return str;
      }
      styleOptionTerm(str) {
        return this.styleOptionText(str);
      }
      styleSubcommandTerm(str) {
        return str
          .split(" ")
          .map((word) => {
            if (word === "[options]") return this.styleOptionText(word);
            if (word[0] === "[" || word[0] === "<") return this.styleArgumentText(word);
            return this.styleSubcommandText(word);
          })
          .join(" ");
      }
      styleArgumentTerm(str) {
        return this.styleArgumentText(str);
      }
      styleOptionText(str) {
        return str;
      }
      styleArgumentText(str) {
        return str;
      }
      styleSubcommandText(str) {
        return str;
      }
      styleCommandText(str) {
        return str;
      }
      /**
       * Calculate the pad width from the maximum term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      padWidth(cmd, helper) {
        return Math.max(
          helper.longestOptionTermLength(cmd, helper),
          helper.longestGlobalOptionTermLength(cmd, helper),
          helper.longestSubcommandTermLength(cmd, helper),
          helper.longestArgumentTermLength(cmd, helper),
        );
      }
      /**
       * Detect manually wrapped and indented strings by checking for line break followed by whitespace.
       *
       * @param {string} str
       * @returns {boolean}
       */
      preformatted(str) {
        return /\n[^\S\r\n]/.test(str);
      }
      /**
       * Format the "item", which consists of a term and description. Pad the term and wrap the description, indenting the following lines.
       *
       * So "TTT", 5, "DDD DDDD DD DDD" might be formatted for this.helpWidth=17 like so:
       *   TTT  DDD DDDD
       *        DD DDD
       *
       * @param {string} term
       * @param {number} termWidth
       * @param {string} description
       * @param {Help} helper
       * @returns {string}
       */
      formatItem(term, termWidth, description, helper) {
        const itemIndent = 2;
        const itemIndentStr = " ".repeat(itemIndent);
        if (!description) return itemIndentStr + term;
        const paddedTerm = term.padEnd(termWidth + term.length - helper.displayWidth(term));
        const spacerWidth = 2;
        const helpWidth = this.helpWidth ?? 80;
        const remainingWidth = helpWidth - termWidth - spacerWidth - itemIndent;
        let formattedDescription;
        if (remainingWidth < this.minWidthToWrap || helper.preformatted(description)) {
          formattedDescription = description;
        } else {
          const wrappedDescription = helper.boxWrap(description, remainingWidth);
          formattedDescription = wrappedDescription.replace(/\n/g, "\n" + " ".repeat(termWidth + spacerWidth));
        }
        return (
          itemIndentStr +
          paddedTerm +
          " ".repeat(spacerWidth) +
          formattedDescription.replace(
            /\n/g,
            `
${itemIndentStr}`,
          )
        );
      }
      /**
       * Wrap a string at whitespace, preserving existing line breaks.
       * Wrapping is skipped if the width is less than `minWidthToWrap`.
       *
       * @param {string} str
       * @param {number} width
       * @returns {string}
       */
      boxWrap(str, width) {
        if (width < this.minWidthToWrap) return str;
        const rawLines = str.split(/\r\n|\n/);
        const chunkPattern = /[\s]*[^\s]+/g;
        const wrappedLines = [];
        rawLines.forEach((line) => {
          const chunks = line.match(chunkPattern);
          if (chunks === null) {
            wrappedLines.push("");
            return;
          }
          let sumChunks = [chunks.shift()];
          let sumWidth = this.displayWidth(sumChunks[0]);
          chunks.forEach((chunk) => {
            const visibleWidth = this.displayWidth(chunk);
            if (sumWidth + visibleWidth <= width) {
              sumChunks.push(chunk);
              sumWidth += visibleWidth;
              return;
            }
            wrappedLines.push(sumChunks.join(""));
            const nextChunk = chunk.trimStart();
            sumChunks = [nextChunk];
            sumWidth = this.displayWidth(nextChunk);
          });
          wrappedLines.push(sumChunks.join(""));
        });
        return wrappedLines.join("\n");
      }
    };
    function stripColor(str) {
      const sgrPattern = /\x1b\[\d*(;\d*)*m/g;
      return str.replace(sgrPattern, "");
    }
    exports2.Help = Help2;
    exports2.stripColor = stripColor;
  },
});

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/option.js
var require_option = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/option.js"(exports2) {
    var { InvalidArgumentError: InvalidArgumentError2 } = require_error();
    var Option2 = class {
      /**
       * Initialize a new `Option` with the given `flags` and `description`.
       *
       * @param {string} flags
       * @param {string} [description]
       */
      constructor(flags, description) {
        this.flags = flags;
        this.description = description || "";
        this.required = flags.includes("<");
        this.optional = flags.includes("[");
        this.variadic = /\w\.\.\.[>\]]$/.test(flags);
        this.mandatory = false;
        const optionFlags = splitOptionFlags(flags);
        this.short = optionFlags.shortFlag;
        this.long = optionFlags.longFlag;
        this.negate = false;
        if (this.long) {
          this.negate = this.long.startsWith("--no-");
        }
        this.defaultValue = void 0;
        this.defaultValueDescription = void 0;
        this.presetArg = void 0;
        this.envVar = void 0;
        this.parseArg = void 0;
        this.hidden = false;
        this.argChoices = void 0;
        this.conflictsWith = [];
        this.implied = void 0;
        this.helpGroupHeading = void 0;
      }
      /**
       * Set the default value, and optionally supply the description to be displayed in the help.
       *
       * @param {*} value
       * @param {string} [description]
       * @return {Option}
       */
      default(value, description) {
        this.defaultValue = value;
        this.defaultValueDescription = description;
        return this;
      }
      /**
       * Preset to use when option used without option-argument, especially optional but also boolean and negated.
       * The custom processing (parseArg) is called.
       *
       * @example
       * new Option('--color').default('GREYSCALE').preset('RGB');
       * new Option('--donate [amount]').preset('20').argParser(parseFloat);
       *
       * @param {*} arg
       * @return {Option}
       */
      preset(arg) {
        this.presetArg = arg;
        return this;
      }
      /**
       * Add option name(s) that conflict with this option.
       * An error will be displayed if conflicting options are found during parsing.
       *
       * @example
       * new Option('--rgb').conflicts('cmyk');
       * new Option('--js').conflicts(['ts', 'jsx']);
       *
       * @param {(string | string[])} names
       * @return {Option}
       */
      conflicts(names) {
        this.conflictsWith = this.conflictsWith.concat(names);
        return this;
      }
      /**
       * Specify implied option values for when this option is set and the implied options are not.
       *
       * The custom processing (parseArg) is not called on the implied values.
       *
       * @example
       * program
       *   .addOption(new Option('--log', 'write logging information to file'))
       *   .addOption(new Option('--trace', 'log extra details').implies({ log: 'trace.txt' }));
       *
       * @param {object} impliedOptionValues
       * @return {Option}
       */
      implies(impliedOptionValues) {
        let newImplied = impliedOptionValues;
        if (typeof impliedOptionValues === "string") {
          newImplied = { [impliedOptionValues]: true };
        }
        this.implied = Object.assign(this.implied || {}, newImplied);
        return this;
      }
      /**
       * Set environment variable to check for option value.
       *
       * An environment variable is only used if when processed the current option value is
       * undefined, or the source of the current value is 'default' or 'config' or 'env'.
       *
       * @param {string} name
       * @return {Option}
       */
      env(name) {
        this.envVar = name;
        return this;
      }
      /**
       * Set the custom handler for processing CLI option arguments into option values.
       *
       * @param {Function} [fn]
       * @return {Option}
       */
      argParser(fn) {
        this.parseArg = fn;
        return this;
      }
      /**
       * Whether the option is mandatory and must have a value after parsing.
       *
       * @param {boolean} [mandatory=true]
       * @return {Option}
       */
      makeOptionMandatory(mandatory = true) {
        this.mandatory = !!mandatory;
        return this;
      }
      /**
       * Hide option in help.
       *
       * @param {boolean} [hide=true]
       * @return {Option}
       */
      hideHelp(hide = true) {
        this.hidden = !!hide;
        return this;
      }
      /**
       * @package
       */
      _collectValue(value, previous) {
        if (previous === this.defaultValue || !Array.isArray(previous)) {
          return [value];
        }
        previous.push(value);
        return previous;
      }
      /**
       * Only allow option value to be one of choices.
       *
       * @param {string[]} values
       * @return {Option}
       */
      choices(values) {
        this.argChoices = values.slice();
        this.parseArg = (arg, previous) => {
          if (!this.argChoices.includes(arg)) {
            throw new InvalidArgumentError2(`Allowed choices are ${this.argChoices.join(", ")}.`);
          }
          if (this.variadic) {
            return this._collectValue(arg, previous);
          }
          return arg;
        };
        return this;
      }
      /**
       * Return option name.
       *
       * @return {string}
       */
      name() {
        if (this.long) {
          return this.long.replace(/^--/, "");
        }
        return this.short.replace(/^-/, "");
      }
      /**
       * Return option name, in a camelcase format that can be used
       * as an object attribute key.
       *
       * @return {string}
       */
      attributeName() {
        if (this.negate) {
          return camelcase(this.name().replace(/^no-/, ""));
        }
        return camelcase(this.name());
      }
      /**
       * Set the help group heading.
       *
       * @param {string} heading
       * @return {Option}
       */
      helpGroup(heading) {
        this.helpGroupHeading = heading;
        return this;
      }
      /**
       * Check if `arg` matches the short or long flag.
       *
       * @param {string} arg
       * @return {boolean}
       * @package
       */
      is(arg) {
        return this.short === arg || this.long === arg;
      }
      /**
       * Return whether a boolean option.
       *
       * Options are one of boolean, negated, required argument, or optional argument.
       *
       * @return {boolean}
       * @package
       */
      isBoolean() {
        return !this.required && !this.optional && !this.negate;
      }
    };
    var DualOptions = class {
      /**
       * @param {Option[]} options
       */
      constructor(options) {
        this.positiveOptions = /* @__PURE__ */ new Map();
        this.negativeOptions = /* @__PURE__ */ new Map();
        this.dualOptions = /* @__PURE__ */ new Set();
        options.forEach((option) => {
          if (option.negate) {
            this.negativeOptions.set(option.attributeName(), option);
          } else {
            this.positiveOptions.set(option.attributeName(), option);
          }
        });
        this.negativeOptions.forEach((value, key) => {
          if (this.positiveOptions.has(key)) {
            this.dualOptions.add(key);
          }
        });
      }
      /**
       * Did the value come from the option, and not from possible matching dual option?
       *
       * @param {*} value
       * @param {Option} option
       * @returns {boolean}
       */
      valueFromOption(value, option) {
        const optionKey = option.attributeName();
        if (!this.dualOptions.has(optionKey)) return true;
        const preset = this.negativeOptions.get(optionKey).presetArg;
        const negativeValue = preset !== void 0 ? preset : false;
        return option.negate === (negativeValue === value);
      }
    };
    function camelcase(str) {
      return str.split("-").reduce((str2, word) => {
        return str2 + word[0].toUpperCase() + word.slice(1);
      });
    }
    function splitOptionFlags(flags) {
      let shortFlag;
      let longFlag;
      const shortFlagExp = /^-[^-]$/;
      const longFlagExp = /^--[^-]/;
      const flagParts = flags.split(/[ |,]+/).concat("guard");
      if (shortFlagExp.test(flagParts[0])) shortFlag = flagParts.shift();
      if (longFlagExp.test(flagParts[0])) longFlag = flagParts.shift();
      if (!shortFlag && shortFlagExp.test(flagParts[0])) shortFlag = flagParts.shift();
      if (!shortFlag && longFlagExp.test(flagParts[0])) {
        shortFlag = longFlag;
        longFlag = flagParts.shift();
      }
      if (flagParts[0].startsWith("-")) {
        const unsupportedFlag = flagParts[0];
        const baseError = `option creation failed due to '${unsupportedFlag}' in option flags '${flags}'`;
        if (/^-[^-][^-]/.test(unsupportedFlag))
          throw new Error(
            `${baseError}
- a short flag is a single dash and a single character
  - either use a single dash and a single character (for a short flag)
  - or use a double dash for a long option (and can have two, like '--ws, --workspace')`,
          );
        if (shortFlagExp.test(unsupportedFlag))
          throw new Error(`${baseError}
- too many short flags`);
        if (longFlagExp.test(unsupportedFlag))
          throw new Error(`${baseError}
- too many long flags`);
        throw new Error(`${baseError}
- unrecognised flag format`);
      }
      if (shortFlag === void 0 && longFlag === void 0)
        throw new Error(`option creation failed due to no flags found in '${flags}'.`);
      return { shortFlag, longFlag };
    }
    exports2.Option = Option2;
    exports2.DualOptions = DualOptions;
  },
});

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/suggestSimilar.js
var require_suggestSimilar = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/suggestSimilar.js"(exports2) {
    var maxDistance = 3;
    function editDistance(a, b) {
      if (Math.abs(a.length - b.length) > maxDistance) return Math.max(a.length, b.length);
      const d = [];
      for (let i = 0; i <= a.length; i++) {
        d[i] = [i];
      }
      for (let j = 0; j <= b.length; j++) {
        d[0][j] = j;
      }
      for (let j = 1; j <= b.length; j++) {
        for (let i = 1; i <= a.length; i++) {
          let cost = 1;
          if (a[i - 1] === b[j - 1]) {
            cost = 0;
          } else {
            cost = 1;
          }
          d[i][j] = Math.min(
            d[i - 1][j] + 1,
            // deletion
            d[i][j - 1] + 1,
            // insertion
            d[i - 1][j - 1] + cost,
            // substitution
          );
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
            d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
          }
        }
      }
      return d[a.length][b.length];
    }
    function suggestSimilar(word, candidates) {
      if (!candidates || candidates.length === 0) return "";
      candidates = Array.from(new Set(candidates));
      const searchingOptions = word.startsWith("--");
      if (searchingOptions) {
        word = word.slice(2);
        candidates = candidates.map((candidate) => candidate.slice(2));
      }
      let similar = [];
      let bestDistance = maxDistance;
      const minSimilarity = 0.4;
      candidates.forEach((candidate) => {
        if (candidate.length <= 1) return;
        const distance = editDistance(word, candidate);
        const length = Math.max(word.length, candidate.length);
        const similarity = (length - distance) / length;
        if (similarity > minSimilarity) {
          if (distance < bestDistance) {
            bestDistance = distance;
            similar = [candidate];
          } else if (distance === bestDistance) {
            similar.push(candidate);
          }
        }
      });
      similar.sort((a, b) => a.localeCompare(b));
      if (searchingOptions) {
        similar = similar.map((candidate) => `--${candidate}`);
      }
      if (similar.length > 1) {
        return `
(Did you mean one of ${similar.join(", ")}?)`;
      }
      if (similar.length === 1) {
        return `
(Did you mean ${similar[0]}?)`;
      }
      return "";
    }
    exports2.suggestSimilar = suggestSimilar;
  },
});

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/command.js
var require_command = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/lib/command.js"(exports2) {
    var EventEmitter = require("node:events").EventEmitter;
    var childProcess = require_child_process();
    var path = require("node:path");
    var fs = require("node:fs");
    var process2 = require("node:process");
    var { Argument: Argument2, humanReadableArgName } = require_argument();
    var { CommanderError: CommanderError2 } = require_error();
    var { Help: Help2, stripColor } = require_help();
    var { Option: Option2, DualOptions } = require_option();
    var { suggestSimilar } = require_suggestSimilar();
    var Command2 = class _Command extends EventEmitter {
      /**
       * Initialize a new `Command`.
       *
       * @param {string} [name]
       */
      constructor(name) {
        super();
        this.commands = [];
        this.options = [];
        this.parent = null;
        this._allowUnknownOption = false;
        this._allowExcessArguments = false;
        this.registeredArguments = [];
        this._args = this.registeredArguments;
        this.args = [];
        this.rawArgs = [];
        this.processedArgs = [];
        this._scriptPath = null;
        this._name = name || "";
        this._optionValues = {};
        this._optionValueSources = {};
        this._storeOptionsAsProperties = false;
        this._actionHandler = null;
        this._executableHandler = false;
        this._executableFile = null;
        this._executableDir = null;
        this._defaultCommandName = null;
        this._exitCallback = null;
        this._aliases = [];
        this._combineFlagAndOptionalValue = true;
        this._description = "";
        this._summary = "";
        this._argsDescription = void 0;
        this._enablePositionalOptions = false;
        this._passThroughOptions = false;
        this._lifeCycleHooks = {};
        this._showHelpAfterError = false;
        this._showSuggestionAfterError = true;
        this._savedState = null;
        this._outputConfiguration = {
          writeOut: (str) => process2.stdout.write(str),
          writeErr: (str) => process2.stderr.write(str),
          outputError: (str, write) => write(str),
          getOutHelpWidth: () => (process2.stdout.isTTY ? process2.stdout.columns : void 0),
          getErrHelpWidth: () => (process2.stderr.isTTY ? process2.stderr.columns : void 0),
          getOutHasColors: () => useColor() ?? (process2.stdout.isTTY && process2.stdout.hasColors?.()),
          getErrHasColors: () => useColor() ?? (process2.stderr.isTTY && process2.stderr.hasColors?.()),
          stripColor: (str) => stripColor(str),
        };
        this._hidden = false;
        this._helpOption = void 0;
        this._addImplicitHelpCommand = void 0;
        this._helpCommand = void 0;
        this._helpConfiguration = {};
        this._helpGroupHeading = void 0;
        this._defaultCommandGroup = void 0;
        this._defaultOptionGroup = void 0;
      }
      /**
       * Copy settings that are useful to have in common across root command and subcommands.
       *
       * (Used internally when adding a command using `.command()` so subcommands inherit parent settings.)
       *
       * @param {Command} sourceCommand
       * @return {Command} `this` command for chaining
       */
      copyInheritedSettings(sourceCommand) {
        this._outputConfiguration = sourceCommand._outputConfiguration;
        this._helpOption = sourceCommand._helpOption;
        this._helpCommand = sourceCommand._helpCommand;
        this._helpConfiguration = sourceCommand._helpConfiguration;
        this._exitCallback = sourceCommand._exitCallback;
        this._storeOptionsAsProperties = sourceCommand._storeOptionsAsProperties;
        this._combineFlagAndOptionalValue = sourceCommand._combineFlagAndOptionalValue;
        this._allowExcessArguments = sourceCommand._allowExcessArguments;
        this._enablePositionalOptions = sourceCommand._enablePositionalOptions;
        this._showHelpAfterError = sourceCommand._showHelpAfterError;
        this._showSuggestionAfterError = sourceCommand._showSuggestionAfterError;
        return this;
      }
      /**
       * @returns {Command[]}
       * @private
       */
      _getCommandAndAncestors() {
        const result = [];
        for (let command = this; command; command = command.parent) {
          result.push(command);
        }
        return result;
      }
      /**
       * Define a command.
       *
       * There are two styles of command: pay attention to where to put the description.
       *
       * @example
       * // Command implemented using action handler (description is supplied separately to `.command`)
       * program
       *   .command('clone <source> [destination]')
       *   .description('clone a repository into a newly created directory')
       *   .action((source, destination) => {
       *     console.log('clone command called');
       *   });
       *
       * // Command implemented using separate executable file (description is second parameter to `.command`)
       * program
       *   .command('start <service>', 'start named service')
       *   .command('stop [service]', 'stop named service, or all if no name supplied');
       *
       * @param {string} nameAndArgs - command name and arguments, args are `<required>` or `[optional]` and last may also be `variadic...`
       * @param {(object | string)} [actionOptsOrExecDesc] - configuration options (for action), or description (for executable)
       * @param {object} [execOpts] - configuration options (for executable)
       * @return {Command} returns new command for action handler, or `this` for executable command
       */
      command(nameAndArgs, actionOptsOrExecDesc, execOpts) {
        let desc = actionOptsOrExecDesc;
        let opts = execOpts;
        if (typeof desc === "object" && desc !== null) {
          opts = desc;
          desc = null;
        }
        opts = opts || {};
        const [, name, args] = nameAndArgs.match(/([^ ]+) *(.*)/);
        const cmd = this.createCommand(name);
        if (desc) {
          cmd.description(desc);
          cmd._executableHandler = true;
        }
        if (opts.isDefault) this._defaultCommandName = cmd._name;
        cmd._hidden = !!(opts.noHelp || opts.hidden);
        cmd._executableFile = opts.executableFile || null;
        if (args) cmd.arguments(args);
        this._registerCommand(cmd);
        cmd.parent = this;
        cmd.copyInheritedSettings(this);
        if (desc) return this;
        return cmd;
      }
      /**
       * Factory routine to create a new unattached command.
       *
       * See .command() for creating an attached subcommand, which uses this routine to
       * create the command. You can override createCommand to customise subcommands.
       *
       * @param {string} [name]
       * @return {Command} new command
       */
      createCommand(name) {
        return new _Command(name);
      }
      /**
       * You can customise the help with a subclass of Help by overriding createHelp,
       * or by overriding Help properties using configureHelp().
       *
       * @return {Help}
       */
      createHelp() {
        return Object.assign(new Help2(), this.configureHelp());
      }
      /**
       * You can customise the help by overriding Help properties using configureHelp(),
       * or with a subclass of Help by overriding createHelp().
       *
       * @param {object} [configuration] - configuration options
       * @return {(Command | object)} `this` command for chaining, or stored configuration
       */
      configureHelp(configuration) {
        if (configuration === void 0) return this._helpConfiguration;
        this._helpConfiguration = configuration;
        return this;
      }
      /**
       * The default output goes to stdout and stderr. You can customise this for special
       * applications. You can also customise the display of errors by overriding outputError.
       *
       * The configuration properties are all functions:
       *
       *     // change how output being written, defaults to stdout and stderr
       *     writeOut(str)
       *     writeErr(str)
       *     // change how output being written for errors, defaults to writeErr
       *     outputError(str, write) // used for displaying errors and not used for displaying help
       *     // specify width for wrapping help
       *     getOutHelpWidth()
       *     getErrHelpWidth()
       *     // color support, currently only used with Help
       *     getOutHasColors()
       *     getErrHasColors()
       *     stripColor() // used to remove ANSI escape codes if output does not have colors
       *
       * @param {object} [configuration] - configuration options
       * @return {(Command | object)} `this` command for chaining, or stored configuration
       */
      configureOutput(configuration) {
        if (configuration === void 0) return this._outputConfiguration;
        this._outputConfiguration = {
          ...this._outputConfiguration,
          ...configuration,
        };
        return this;
      }
      /**
       * Display the help or a custom message after an error occurs.
       *
       * @param {(boolean|string)} [displayHelp]
       * @return {Command} `this` command for chaining
       */
      showHelpAfterError(displayHelp = true) {
        if (typeof displayHelp !== "string") displayHelp = !!displayHelp;
        this._showHelpAfterError = displayHelp;
        return this;
      }
      /**
       * Display suggestion of similar commands for unknown commands, or options for unknown options.
       *
       * @param {boolean} [displaySuggestion]
       * @return {Command} `this` command for chaining
       */
      showSuggestionAfterError(displaySuggestion = true) {
        this._showSuggestionAfterError = !!displaySuggestion;
        return this;
      }
      /**
       * Add a prepared subcommand.
       *
       * See .command() for creating an attached subcommand which inherits settings from its parent.
       *
       * @param {Command} cmd - new subcommand
       * @param {object} [opts] - configuration options
       * @return {Command} `this` command for chaining
       */
      addCommand(cmd, opts) {
        if (!cmd._name) {
          throw new Error(`Command passed to .addCommand() must have a name
- specify the name in Command constructor or using .name()`);
        }
        opts = opts || {};
        if (opts.isDefault) this._defaultCommandName = cmd._name;
        if (opts.noHelp || opts.hidden) cmd._hidden = true;
        this._registerCommand(cmd);
        cmd.parent = this;
        cmd._checkForBrokenPassThrough();
        return this;
      }
      /**
       * Factory routine to create a new unattached argument.
       *
       * See .argument() for creating an attached argument, which uses this routine to
       * create the argument. You can override createArgument to return a custom argument.
       *
       * @param {string} name
       * @param {string} [description]
       * @return {Argument} new argument
       */
      createArgument(name, description) {
        return new Argument2(name, description);
      }
      /**
       * Define argument syntax for command.
       *
       * The default is that the argument is required, and you can explicitly
       * indicate this with <> around the name. Put [] around the name for an optional argument.
       *
       * @example
       * program.argument('<input-file>');
       * program.argument('[output-file]');
       *
       * @param {string} name
       * @param {string} [description]
       * @param {(Function|*)} [parseArg] - custom argument processing function or default value
       * @param {*} [defaultValue]
       * @return {Command} `this` command for chaining
       */
      argument(name, description, parseArg, defaultValue) {
        const argument = this.createArgument(name, description);
        if (typeof parseArg === "function") {
          argument.default(defaultValue).argParser(parseArg);
        } else {
          argument.default(parseArg);
        }
        this.addArgument(argument);
        return this;
      }
      /**
       * Define argument syntax for command, adding multiple at once (without descriptions).
       *
       * See also .argument().
       *
       * @example
       * program.arguments('<cmd> [env]');
       *
       * @param {string} names
       * @return {Command} `this` command for chaining
       */
      arguments(names) {
        names
          .trim()
          .split(/ +/)
          .forEach((detail) => {
            this.argument(detail);
          });
        return this;
      }
      /**
       * Define argument syntax for command, adding a prepared argument.
       *
       * @param {Argument} argument
       * @return {Command} `this` command for chaining
       */
      addArgument(argument) {
        const previousArgument = this.registeredArguments.slice(-1)[0];
        if (previousArgument?.variadic) {
          throw new Error(`only the last argument can be variadic '${previousArgument.name()}'`);
        }
        if (argument.required && argument.defaultValue !== void 0 && argument.parseArg === void 0) {
          throw new Error(`a default value for a required argument is never used: '${argument.name()}'`);
        }
        this.registeredArguments.push(argument);
        return this;
      }
      /**
       * Customise or override default help command. By default a help command is automatically added if your command has subcommands.
       *
       * @example
       *    program.helpCommand('help [cmd]');
       *    program.helpCommand('help [cmd]', 'show help');
       *    program.helpCommand(false); // suppress default help command
       *    program.helpCommand(true); // add help command even if no subcommands
       *
       * @param {string|boolean} enableOrNameAndArgs - enable with custom name and/or arguments, or boolean to override whether added
       * @param {string} [description] - custom description
       * @return {Command} `this` command for chaining
       */
      helpCommand(enableOrNameAndArgs, description) {
        if (typeof enableOrNameAndArgs === "boolean") {
          this._addImplicitHelpCommand = enableOrNameAndArgs;
          if (enableOrNameAndArgs && this._defaultCommandGroup) {
            this._initCommandGroup(this._getHelpCommand());
          }
          return this;
        }
        const nameAndArgs = enableOrNameAndArgs ?? "help [command]";
        const [, helpName, helpArgs] = nameAndArgs.match(/([^ ]+) *(.*)/);
        const helpDescription = description ?? "display help for command";
        const helpCommand = this.createCommand(helpName);
        helpCommand.helpOption(false);
        if (helpArgs) helpCommand.arguments(helpArgs);
        if (helpDescription) helpCommand.description(helpDescription);
        this._addImplicitHelpCommand = true;
        this._helpCommand = helpCommand;
        if (enableOrNameAndArgs || description) this._initCommandGroup(helpCommand);
        return this;
      }
      /**
       * Add prepared custom help command.
       *
       * @param {(Command|string|boolean)} helpCommand - custom help command, or deprecated enableOrNameAndArgs as for `.helpCommand()`
       * @param {string} [deprecatedDescription] - deprecated custom description used with custom name only
       * @return {Command} `this` command for chaining
       */
      addHelpCommand(helpCommand, deprecatedDescription) {
        if (typeof helpCommand !== "object") {
          this.helpCommand(helpCommand, deprecatedDescription);
          return this;
        }
        this._addImplicitHelpCommand = true;
        this._helpCommand = helpCommand;
        this._initCommandGroup(helpCommand);
        return this;
      }
      /**
       * Lazy create help command.
       *
       * @return {(Command|null)}
       * @package
       */
      _getHelpCommand() {
        const hasImplicitHelpCommand =
          this._addImplicitHelpCommand ?? (this.commands.length && !this._actionHandler && !this._findCommand("help"));
        if (hasImplicitHelpCommand) {
          if (this._helpCommand === void 0) {
            this.helpCommand(void 0, void 0);
          }
          return this._helpCommand;
        }
        return null;
      }
      /**
       * Add hook for life cycle event.
       *
       * @param {string} event
       * @param {Function} listener
       * @return {Command} `this` command for chaining
       */
      hook(event, listener) {
        const allowedValues = ["preSubcommand", "preAction", "postAction"];
        if (!allowedValues.includes(event)) {
          throw new Error(`Unexpected value for event passed to hook : '${event}'.
Expecting one of '${allowedValues.join("', '")}'`);
        }
        if (this._lifeCycleHooks[event]) {
          this._lifeCycleHooks[event].push(listener);
        } else {
          this._lifeCycleHooks[event] = [listener];
        }
        return this;
      }
      /**
       * Register callback to use as replacement for calling process.exit.
       *
       * @param {Function} [fn] optional callback which will be passed a CommanderError, defaults to throwing
       * @return {Command} `this` command for chaining
       */
      exitOverride(fn) {
        if (fn) {
          this._exitCallback = fn;
        } else {
          this._exitCallback = (err) => {
            if (err.code !== "commander.executeSubCommandAsync") {
              throw err;
            } else {
            }
          };
        }
        return this;
      }
      /**
       * Call process.exit, and _exitCallback if defined.
       *
       * @param {number} exitCode exit code for using with process.exit
       * @param {string} code an id string representing the error
       * @param {string} message human-readable description of the error
       * @return never
       * @private
       */
      _exit(exitCode, code, message) {
        if (this._exitCallback) {
          this._exitCallback(new CommanderError2(exitCode, code, message));
        }
        process2.exit(exitCode);
      }
      /**
       * Register callback `fn` for the command.
       *
       * @example
       * program
       *   .command('serve')
       *   .description('start service')
       *   .action(function() {
       *      // do work here
       *   });
       *
       * @param {Function} fn
       * @return {Command} `this` command for chaining
       */
      action(fn) {
        const listener = (args) => {
          const expectedArgsCount = this.registeredArguments.length;
          const actionArgs = args.slice(0, expectedArgsCount);
          if (this._storeOptionsAsProperties) {
            actionArgs[expectedArgsCount] = this;
          } else {
            actionArgs[expectedArgsCount] = this.opts();
          }
          actionArgs.push(this);
          return fn.apply(this, actionArgs);
        };
        this._actionHandler = listener;
        return this;
      }
      /**
       * Factory routine to create a new unattached option.
       *
       * See .option() for creating an attached option, which uses this routine to
       * create the option. You can override createOption to return a custom option.
       *
       * @param {string} flags
       * @param {string} [description]
       * @return {Option} new option
       */
      createOption(flags, description) {
        return new Option2(flags, description);
      }
      /**
       * Wrap parseArgs to catch 'commander.invalidArgument'.
       *
       * @param {(Option | Argument)} target
       * @param {string} value
       * @param {*} previous
       * @param {string} invalidArgumentMessage
       * @private
       */
      _callParseArg(target, value, previous, invalidArgumentMessage) {
        try {
          return target.parseArg(value, previous);
        } catch (err) {
          if (err.code === "commander.invalidArgument") {
            const message = `${invalidArgumentMessage} ${err.message}`;
            this.error(message, { exitCode: err.exitCode, code: err.code });
          }
          throw err;
        }
      }
      /**
       * Check for option flag conflicts.
       * Register option if no conflicts found, or throw on conflict.
       *
       * @param {Option} option
       * @private
       */
      _registerOption(option) {
        const matchingOption =
          (option.short && this._findOption(option.short)) || (option.long && this._findOption(option.long));
        if (matchingOption) {
          const matchingFlag = option.long && this._findOption(option.long) ? option.long : option.short;
          throw new Error(`Cannot add option '${option.flags}'${this._name && ` to command '${this._name}'`} due to conflicting flag '${matchingFlag}'
-  already used by option '${matchingOption.flags}'`);
        }
        this._initOptionGroup(option);
        this.options.push(option);
      }
      /**
       * Check for command name and alias conflicts with existing commands.
       * Register command if no conflicts found, or throw on conflict.
       *
       * @param {Command} command
       * @private
       */
      _registerCommand(command) {
        const knownBy = (cmd) => {
          return [cmd.name()].concat(cmd.aliases());
        };
        const alreadyUsed = knownBy(command).find((name) => this._findCommand(name));
        if (alreadyUsed) {
          const existingCmd = knownBy(this._findCommand(alreadyUsed)).join("|");
          const newCmd = knownBy(command).join("|");
          throw new Error(`cannot add command '${newCmd}' as already have command '${existingCmd}'`);
        }
        this._initCommandGroup(command);
        this.commands.push(command);
      }
      /**
       * Add an option.
       *
       * @param {Option} option
       * @return {Command} `this` command for chaining
       */
      addOption(option) {
        this._registerOption(option);
        const oname = option.name();
        const name = option.attributeName();
        if (option.negate) {
          const positiveLongFlag = option.long.replace(/^--no-/, "--");
          if (!this._findOption(positiveLongFlag)) {
            this.setOptionValueWithSource(name, option.defaultValue === void 0 ? true : option.defaultValue, "default");
          }
        } else if (option.defaultValue !== void 0) {
          this.setOptionValueWithSource(name, option.defaultValue, "default");
        }
        const handleOptionValue = (val, invalidValueMessage, valueSource) => {
          if (val == null && option.presetArg !== void 0) {
            val = option.presetArg;
          }
          const oldValue = this.getOptionValue(name);
          if (val !== null && option.parseArg) {
            val = this._callParseArg(option, val, oldValue, invalidValueMessage);
          } else if (val !== null && option.variadic) {
            val = option._collectValue(val, oldValue);
          }
          if (val == null) {
            if (option.negate) {
              val = false;
            } else if (option.isBoolean() || option.optional) {
              val = true;
            } else {
              val = "";
            }
          }
          this.setOptionValueWithSource(name, val, valueSource);
        };
        this.on("option:" + oname, (val) => {
          const invalidValueMessage = `error: option '${option.flags}' argument '${val}' is invalid.`;
          handleOptionValue(val, invalidValueMessage, "cli");
        });
        if (option.envVar) {
          this.on("optionEnv:" + oname, (val) => {
            const invalidValueMessage = `error: option '${option.flags}' value '${val}' from env '${option.envVar}' is invalid.`;
            handleOptionValue(val, invalidValueMessage, "env");
          });
        }
        return this;
      }
      /**
       * Internal implementation shared by .option() and .requiredOption()
       *
       * @return {Command} `this` command for chaining
       * @private
       */
      _optionEx(config, flags, description, fn, defaultValue) {
        if (typeof flags === "object" && flags instanceof Option2) {
          throw new Error("To add an Option object use addOption() instead of option() or requiredOption()");
        }
        const option = this.createOption(flags, description);
        option.makeOptionMandatory(!!config.mandatory);
        if (typeof fn === "function") {
          option.default(defaultValue).argParser(fn);
        } else if (fn instanceof RegExp) {
          const regex = fn;
          fn = (val, def) => {
            const m = regex.exec(val);
            return m ? m[0] : def;
          };
          option.default(defaultValue).argParser(fn);
        } else {
          option.default(fn);
        }
        return this.addOption(option);
      }
      /**
       * Define option with `flags`, `description`, and optional argument parsing function or `defaultValue` or both.
       *
       * The `flags` string contains the short and/or long flags, separated by comma, a pipe or space. A required
       * option-argument is indicated by `<>` and an optional option-argument by `[]`.
       *
       * See the README for more details, and see also addOption() and requiredOption().
       *
       * @example
       * program
       *     .option('-p, --pepper', 'add pepper')
       *     .option('--pt, --pizza-type <TYPE>', 'type of pizza') // required option-argument
       *     .option('-c, --cheese [CHEESE]', 'add extra cheese', 'mozzarella') // optional option-argument with default
       *     .option('-t, --tip <VALUE>', 'add tip to purchase cost', parseFloat) // custom parse function
       *
       * @param {string} flags
       * @param {string} [description]
       * @param {(Function|*)} [parseArg] - custom option processing function or default value
       * @param {*} [defaultValue]
       * @return {Command} `this` command for chaining
       */
      option(flags, description, parseArg, defaultValue) {
        return this._optionEx({}, flags, description, parseArg, defaultValue);
      }
      /**
       * Add a required option which must have a value after parsing. This usually means
       * the option must be specified on the command line. (Otherwise the same as .option().)
       *
       * The `flags` string contains the short and/or long flags, separated by comma, a pipe or space.
       *
       * @param {string} flags
       * @param {string} [description]
       * @param {(Function|*)} [parseArg] - custom option processing function or default value
       * @param {*} [defaultValue]
       * @return {Command} `this` command for chaining
       */
      requiredOption(flags, description, parseArg, defaultValue) {
        return this._optionEx({ mandatory: true }, flags, description, parseArg, defaultValue);
      }
      /**
       * Alter parsing of short flags with optional values.
       *
       * @example
       * // for `.option('-f,--flag [value]'):
       * program.combineFlagAndOptionalValue(true);  // `-f80` is treated like `--flag=80`, this is the default behaviour
       * program.combineFlagAndOptionalValue(false) // `-fb` is treated like `-f -b`
       *
       * @param {boolean} [combine] - if `true` or omitted, an optional value can be specified directly after the flag.
       * @return {Command} `this` command for chaining
       */
      combineFlagAndOptionalValue(combine = true) {
        this._combineFlagAndOptionalValue = !!combine;
        return this;
      }
      /**
       * Allow unknown options on the command line.
       *
       * @param {boolean} [allowUnknown] - if `true` or omitted, no error will be thrown for unknown options.
       * @return {Command} `this` command for chaining
       */
      allowUnknownOption(allowUnknown = true) {
        this._allowUnknownOption = !!allowUnknown;
        return this;
      }
      /**
       * Allow excess command-arguments on the command line. Pass false to make excess arguments an error.
       *
       * @param {boolean} [allowExcess] - if `true` or omitted, no error will be thrown for excess arguments.
       * @return {Command} `this` command for chaining
       */
      allowExcessArguments(allowExcess = true) {
        this._allowExcessArguments = !!allowExcess;
        return this;
      }
      /**
       * Enable positional options. Positional means global options are specified before subcommands which lets
       * subcommands reuse the same option names, and also enables subcommands to turn on passThroughOptions.
       * The default behaviour is non-positional and global options may appear anywhere on the command line.
       *
       * @param {boolean} [positional]
       * @return {Command} `this` command for chaining
       */
      enablePositionalOptions(positional = true) {
        this._enablePositionalOptions = !!positional;
        return this;
      }
      /**
       * Pass through options that come after command-arguments rather than treat them as command-options,
       * so actual command-options come before command-arguments. Turning this on for a subcommand requires
       * positional options to have been enabled on the program (parent commands).
       * The default behaviour is non-positional and options may appear before or after command-arguments.
       *
       * @param {boolean} [passThrough] for unknown options.
       * @return {Command} `this` command for chaining
       */
      passThroughOptions(passThrough = true) {
        this._passThroughOptions = !!passThrough;
        this._checkForBrokenPassThrough();
        return this;
      }
      /**
       * @private
       */
      _checkForBrokenPassThrough() {
        if (this.parent && this._passThroughOptions && !this.parent._enablePositionalOptions) {
          throw new Error(
            `passThroughOptions cannot be used for '${this._name}' without turning on enablePositionalOptions for parent command(s)`,
          );
        }
      }
      /**
       * Whether to store option values as properties on command object,
       * or store separately (specify false). In both cases the option values can be accessed using .opts().
       *
       * @param {boolean} [storeAsProperties=true]
       * @return {Command} `this` command for chaining
       */
      storeOptionsAsProperties(storeAsProperties = true) {
        if (this.options.length) {
          throw new Error("call .storeOptionsAsProperties() before adding options");
        }
        if (Object.keys(this._optionValues).length) {
          throw new Error("call .storeOptionsAsProperties() before setting option values");
        }
        this._storeOptionsAsProperties = !!storeAsProperties;
        return this;
      }
      /**
       * Retrieve option value.
       *
       * @param {string} key
       * @return {object} value
       */
      getOptionValue(key) {
        if (this._storeOptionsAsProperties) {
          return this[key];
        }
        return this._optionValues[key];
      }
      /**
       * Store option value.
       *
       * @param {string} key
       * @param {object} value
       * @return {Command} `this` command for chaining
       */
      setOptionValue(key, value) {
        return this.setOptionValueWithSource(key, value, void 0);
      }
      /**
       * Store option value and where the value came from.
       *
       * @param {string} key
       * @param {object} value
       * @param {string} source - expected values are default/config/env/cli/implied
       * @return {Command} `this` command for chaining
       */
      setOptionValueWithSource(key, value, source) {
        if (this._storeOptionsAsProperties) {
          this[key] = value;
        } else {
          this._optionValues[key] = value;
        }
        this._optionValueSources[key] = source;
        return this;
      }
      /**
       * Get source of option value.
       * Expected values are default | config | env | cli | implied
       *
       * @param {string} key
       * @return {string}
       */
      getOptionValueSource(key) {
        return this._optionValueSources[key];
      }
      /**
       * Get source of option value. See also .optsWithGlobals().
       * Expected values are default | config | env | cli | implied
       *
       * @param {string} key
       * @return {string}
       */
      getOptionValueSourceWithGlobals(key) {
        let source;
        this._getCommandAndAncestors().forEach((cmd) => {
          if (cmd.getOptionValueSource(key) !== void 0) {
            source = cmd.getOptionValueSource(key);
          }
        });
        return source;
      }
      /**
       * Get user arguments from implied or explicit arguments.
       * Side-effects: set _scriptPath if args included script. Used for default program name, and subcommand searches.
       *
       * @private
       */
      _prepareUserArgs(argv, parseOptions) {
        if (argv !== void 0 && !Array.isArray(argv)) {
          throw new Error("first parameter to parse must be array or undefined");
        }
        parseOptions = parseOptions || {};
        if (argv === void 0 && parseOptions.from === void 0) {
          if (process2.versions?.electron) {
            parseOptions.from = "electron";
          }
          const execArgv = process2.execArgv ?? [];
          if (
            execArgv.includes("-e") ||
            execArgv.includes("--eval") ||
            execArgv.includes("-p") ||
            execArgv.includes("--print")
          ) {
            parseOptions.from = "eval";
          }
        }
        if (argv === void 0) {
          argv = process2.argv;
        }
        this.rawArgs = argv.slice();
        let userArgs;
        switch (parseOptions.from) {
          case void 0:
          case "node":
            this._scriptPath = argv[1];
            userArgs = argv.slice(2);
            break;
          case "electron":
            if (process2.defaultApp) {
              this._scriptPath = argv[1];
              userArgs = argv.slice(2);
            } else {
              userArgs = argv.slice(1);
            }
            break;
          case "user":
            userArgs = argv.slice(0);
            break;
          case "eval":
            userArgs = argv.slice(1);
            break;
          default:
            throw new Error(`unexpected parse option { from: '${parseOptions.from}' }`);
        }
        if (!this._name && this._scriptPath) this.nameFromFilename(this._scriptPath);
        this._name = this._name || "program";
        return userArgs;
      }
      /**
       * Parse `argv`, setting options and invoking commands when defined.
       *
       * Use parseAsync instead of parse if any of your action handlers are async.
       *
       * Call with no parameters to parse `process.argv`. Detects Electron and special node options like `node --eval`. Easy mode!
       *
       * Or call with an array of strings to parse, and optionally where the user arguments start by specifying where the arguments are `from`:
       * - `'node'`: default, `argv[0]` is the application and `argv[1]` is the script being run, with user arguments after that
       * - `'electron'`: `argv[0]` is the application and `argv[1]` varies depending on whether the electron application is packaged
       * - `'user'`: just user arguments
       *
       * @example
       * program.parse(); // parse process.argv and auto-detect electron and special node flags
       * program.parse(process.argv); // assume argv[0] is app and argv[1] is script
       * program.parse(my-args, { from: 'user' }); // just user supplied arguments, nothing special about argv[0]
       *
       * @param {string[]} [argv] - optional, defaults to process.argv
       * @param {object} [parseOptions] - optionally specify style of options with from: node/user/electron
       * @param {string} [parseOptions.from] - where the args are from: 'node', 'user', 'electron'
       * @return {Command} `this` command for chaining
       */
      parse(argv, parseOptions) {
        this._prepareForParse();
        const userArgs = this._prepareUserArgs(argv, parseOptions);
        this._parseCommand([], userArgs);
        return this;
      }
      /**
       * Parse `argv`, setting options and invoking commands when defined.
       *
       * Call with no parameters to parse `process.argv`. Detects Electron and special node options like `node --eval`. Easy mode!
       *
       * Or call with an array of strings to parse, and optionally where the user arguments start by specifying where the arguments are `from`:
       * - `'node'`: default, `argv[0]` is the application and `argv[1]` is the script being run, with user arguments after that
       * - `'electron'`: `argv[0]` is the application and `argv[1]` varies depending on whether the electron application is packaged
       * - `'user'`: just user arguments
       *
       * @example
       * await program.parseAsync(); // parse process.argv and auto-detect electron and special node flags
       * await program.parseAsync(process.argv); // assume argv[0] is app and argv[1] is script
       * await program.parseAsync(my-args, { from: 'user' }); // just user supplied arguments, nothing special about argv[0]
       *
       * @param {string[]} [argv]
       * @param {object} [parseOptions]
       * @param {string} parseOptions.from - where the args are from: 'node', 'user', 'electron'
       * @return {Promise}
       */
      async parseAsync(argv, parseOptions) {
        this._prepareForParse();
        const userArgs = this._prepareUserArgs(argv, parseOptions);
        await this._parseCommand([], userArgs);
        return this;
      }
      _prepareForParse() {
        if (this._savedState === null) {
          this.saveStateBeforeParse();
        } else {
          this.restoreStateBeforeParse();
        }
      }
      /**
       * Called the first time parse is called to save state and allow a restore before subsequent calls to parse.
       * Not usually called directly, but available for subclasses to save their custom state.
       *
       * This is called in a lazy way. Only commands used in parsing chain will have state saved.
       */
      saveStateBeforeParse() {
        this._savedState = {
          // name is stable if supplied by author, but may be unspecified for root command and deduced during parsing
          _name: this._name,
          // option values before parse have default values (including false for negated options)
          // shallow clones
          _optionValues: { ...this._optionValues },
          _optionValueSources: { ...this._optionValueSources },
        };
      }
      /**
       * Restore state before parse for calls after the first.
       * Not usually called directly, but available for subclasses to save their custom state.
       *
       * This is called in a lazy way. Only commands used in parsing chain will have state restored.
       */
      restoreStateBeforeParse() {
        if (this._storeOptionsAsProperties)
          throw new Error(`Can not call parse again when storeOptionsAsProperties is true.
- either make a new Command for each call to parse, or stop storing options as properties`);
        this._name = this._savedState._name;
        this._scriptPath = null;
        this.rawArgs = [];
        this._optionValues = { ...this._savedState._optionValues };
        this._optionValueSources = { ...this._savedState._optionValueSources };
        this.args = [];
        this.processedArgs = [];
      }
      /**
       * Throw if expected executable is missing. Add lots of help for author.
       *
       * @param {string} executableFile
       * @param {string} executableDir
       * @param {string} subcommandName
       */
      _checkForMissingExecutable(executableFile, executableDir, subcommandName) {
        if (fs.existsSync(executableFile)) return;
        const executableDirMessage = executableDir
          ? `searched for local subcommand relative to directory '${executableDir}'`
          : "no directory for search for local subcommand, use .executableDir() to supply a custom directory";
        const executableMissing = `'${executableFile}' does not exist
 - if '${subcommandName}' is not meant to be an executable command, remove description parameter from '.command()' and use '.description()' instead
 - if the default executable name is not suitable, use the executableFile option to supply a custom name or path
 - ${executableDirMessage}`;
        throw new Error(executableMissing);
      }
      /**
       * Execute a sub-command executable.
       *
       * @private
       */
      _executeSubCommand(subcommand, args) {
        args = args.slice();
        let launchWithNode = false;
        const sourceExt = [".js", ".ts", ".tsx", ".mjs", ".cjs"];
        function findFile(baseDir, baseName) {
          const localBin = path.resolve(baseDir, baseName);
          if (fs.existsSync(localBin)) return localBin;
          if (sourceExt.includes(path.extname(baseName))) return void 0;
          const foundExt = sourceExt.find((ext) => fs.existsSync(`${localBin}${ext}`));
          if (foundExt) return `${localBin}${foundExt}`;
          return void 0;
        }
        this._checkForMissingMandatoryOptions();
        this._checkForConflictingOptions();
        let executableFile = subcommand._executableFile || `${this._name}-${subcommand._name}`;
        let executableDir = this._executableDir || "";
        if (this._scriptPath) {
          let resolvedScriptPath;
          try {
            resolvedScriptPath = fs.realpathSync(this._scriptPath);
          } catch {
            resolvedScriptPath = this._scriptPath;
          }
          executableDir = path.resolve(path.dirname(resolvedScriptPath), executableDir);
        }
        if (executableDir) {
          let localFile = findFile(executableDir, executableFile);
          if (!localFile && !subcommand._executableFile && this._scriptPath) {
            const legacyName = path.basename(this._scriptPath, path.extname(this._scriptPath));
            if (legacyName !== this._name) {
              localFile = findFile(executableDir, `${legacyName}-${subcommand._name}`);
            }
          }
          executableFile = localFile || executableFile;
        }
        launchWithNode = sourceExt.includes(path.extname(executableFile));
        let proc;
        if (process2.platform !== "win32") {
          if (launchWithNode) {
            args.unshift(executableFile);
            args = incrementNodeInspectorPort(process2.execArgv).concat(args);
            proc = childProcess.spawn(process2.argv[0], args, { stdio: "inherit" });
          } else {
            proc = childProcess.spawn(executableFile, args, { stdio: "inherit" });
          }
        } else {
          this._checkForMissingExecutable(executableFile, executableDir, subcommand._name);
          args.unshift(executableFile);
          args = incrementNodeInspectorPort(process2.execArgv).concat(args);
          proc = childProcess.spawn(process2.execPath, args, { stdio: "inherit" });
        }
        if (!proc.killed) {
          const signals = ["SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGHUP"];
          signals.forEach((signal) => {
            process2.on(signal, () => {
              if (proc.killed === false && proc.exitCode === null) {
                proc.kill(signal);
              }
            });
          });
        }
        const exitCallback = this._exitCallback;
        proc.on("close", (code) => {
          code = code ?? 1;
          if (!exitCallback) {
            process2.exit(code);
          } else {
            exitCallback(new CommanderError2(code, "commander.executeSubCommandAsync", "(close)"));
          }
        });
        proc.on("error", (err) => {
          if (err.code === "ENOENT") {
            this._checkForMissingExecutable(executableFile, executableDir, subcommand._name);
          } else if (err.code === "EACCES") {
            throw new Error(`'${executableFile}' not executable`);
          }
          if (!exitCallback) {
            process2.exit(1);
          } else {
            const wrappedError = new CommanderError2(1, "commander.executeSubCommandAsync", "(error)");
            wrappedError.nestedError = err;
            exitCallback(wrappedError);
          }
        });
        this.runningCommand = proc;
      }
      /**
       * @private
       */
      _dispatchSubcommand(commandName, operands, unknown) {
        const subCommand = this._findCommand(commandName);
        if (!subCommand) this.help({ error: true });
        subCommand._prepareForParse();
        let promiseChain;
        promiseChain = this._chainOrCallSubCommandHook(promiseChain, subCommand, "preSubcommand");
        promiseChain = this._chainOrCall(promiseChain, () => {
          if (subCommand._executableHandler) {
            this._executeSubCommand(subCommand, operands.concat(unknown));
          } else {
            return subCommand._parseCommand(operands, unknown);
          }
        });
        return promiseChain;
      }
      /**
       * Invoke help directly if possible, or dispatch if necessary.
       * e.g. help foo
       *
       * @private
       */
      _dispatchHelpCommand(subcommandName) {
        if (!subcommandName) {
          this.help();
        }
        const subCommand = this._findCommand(subcommandName);
        if (subCommand && !subCommand._executableHandler) {
          subCommand.help();
        }
        return this._dispatchSubcommand(
          subcommandName,
          [],
          [this._getHelpOption()?.long ?? this._getHelpOption()?.short ?? "--help"],
        );
      }
      /**
       * Check this.args against expected this.registeredArguments.
       *
       * @private
       */
      _checkNumberOfArguments() {
        this.registeredArguments.forEach((arg, i) => {
          if (arg.required && this.args[i] == null) {
            this.missingArgument(arg.name());
          }
        });
        if (
          this.registeredArguments.length > 0 &&
          this.registeredArguments[this.registeredArguments.length - 1].variadic
        ) {
          return;
        }
        if (this.args.length > this.registeredArguments.length) {
          this._excessArguments(this.args);
        }
      }
      /**
       * Process this.args using this.registeredArguments and save as this.processedArgs!
       *
       * @private
       */
      _processArguments() {
        const myParseArg = (argument, value, previous) => {
          let parsedValue = value;
          if (value !== null && argument.parseArg) {
            const invalidValueMessage = `error: command-argument value '${value}' is invalid for argument '${argument.name()}'.`;
            parsedValue = this._callParseArg(argument, value, previous, invalidValueMessage);
          }
          return parsedValue;
        };
        this._checkNumberOfArguments();
        const processedArgs = [];
        this.registeredArguments.forEach((declaredArg, index) => {
          let value = declaredArg.defaultValue;
          if (declaredArg.variadic) {
            if (index < this.args.length) {
              value = this.args.slice(index);
              if (declaredArg.parseArg) {
                value = value.reduce((processed, v) => {
                  return myParseArg(declaredArg, v, processed);
                }, declaredArg.defaultValue);
              }
            } else if (value === void 0) {
              value = [];
            }
          } else if (index < this.args.length) {
            value = this.args[index];
            if (declaredArg.parseArg) {
              value = myParseArg(declaredArg, value, declaredArg.defaultValue);
            }
          }
          processedArgs[index] = value;
        });
        this.processedArgs = processedArgs;
      }
      /**
       * Once we have a promise we chain, but call synchronously until then.
       *
       * @param {(Promise|undefined)} promise
       * @param {Function} fn
       * @return {(Promise|undefined)}
       * @private
       */
      _chainOrCall(promise, fn) {
        if (promise?.then && typeof promise.then === "function") {
          return promise.then(() => fn());
        }
        return fn();
      }
      /**
       *
       * @param {(Promise|undefined)} promise
       * @param {string} event
       * @return {(Promise|undefined)}
       * @private
       */
      _chainOrCallHooks(promise, event) {
        let result = promise;
        const hooks = [];
        this._getCommandAndAncestors()
          .reverse()
          .filter((cmd) => cmd._lifeCycleHooks[event] !== void 0)
          .forEach((hookedCommand) => {
            hookedCommand._lifeCycleHooks[event].forEach((callback) => {
              hooks.push({ hookedCommand, callback });
            });
          });
        if (event === "postAction") {
          hooks.reverse();
        }
        hooks.forEach((hookDetail) => {
          result = this._chainOrCall(result, () => {
            return hookDetail.callback(hookDetail.hookedCommand, this);
          });
        });
        return result;
      }
      /**
       *
       * @param {(Promise|undefined)} promise
       * @param {Command} subCommand
       * @param {string} event
       * @return {(Promise|undefined)}
       * @private
       */
      _chainOrCallSubCommandHook(promise, subCommand, event) {
        let result = promise;
        if (this._lifeCycleHooks[event] !== void 0) {
          this._lifeCycleHooks[event].forEach((hook) => {
            result = this._chainOrCall(result, () => {
              return hook(this, subCommand);
            });
          });
        }
        return result;
      }
      /**
       * Process arguments in context of this command.
       * Returns action result, in case it is a promise.
       *
       * @private
       */
      _parseCommand(operands, unknown) {
        const parsed = this.parseOptions(unknown);
        this._parseOptionsEnv();
        this._parseOptionsImplied();
        operands = operands.concat(parsed.operands);
        unknown = parsed.unknown;
        this.args = operands.concat(unknown);
        if (operands && this._findCommand(operands[0])) {
          return this._dispatchSubcommand(operands[0], operands.slice(1), unknown);
        }
        if (this._getHelpCommand() && operands[0] === this._getHelpCommand().name()) {
          return this._dispatchHelpCommand(operands[1]);
        }
        if (this._defaultCommandName) {
          this._outputHelpIfRequested(unknown);
          return this._dispatchSubcommand(this._defaultCommandName, operands, unknown);
        }
        if (this.commands.length && this.args.length === 0 && !this._actionHandler && !this._defaultCommandName) {
          this.help({ error: true });
        }
        this._outputHelpIfRequested(parsed.unknown);
        this._checkForMissingMandatoryOptions();
        this._checkForConflictingOptions();
        const checkForUnknownOptions = () => {
          if (parsed.unknown.length > 0) {
            this.unknownOption(parsed.unknown[0]);
          }
        };
        const commandEvent = `command:${this.name()}`;
        if (this._actionHandler) {
          checkForUnknownOptions();
          this._processArguments();
          let promiseChain;
          promiseChain = this._chainOrCallHooks(promiseChain, "preAction");
          promiseChain = this._chainOrCall(promiseChain, () => this._actionHandler(this.processedArgs));
          if (this.parent) {
            promiseChain = this._chainOrCall(promiseChain, () => {
              this.parent.emit(commandEvent, operands, unknown);
            });
          }
          promiseChain = this._chainOrCallHooks(promiseChain, "postAction");
          return promiseChain;
        }
        if (this.parent?.listenerCount(commandEvent)) {
          checkForUnknownOptions();
          this._processArguments();
          this.parent.emit(commandEvent, operands, unknown);
        } else if (operands.length) {
          if (this._findCommand("*")) {
            return this._dispatchSubcommand("*", operands, unknown);
          }
          if (this.listenerCount("command:*")) {
            this.emit("command:*", operands, unknown);
          } else if (this.commands.length) {
            this.unknownCommand();
          } else {
            checkForUnknownOptions();
            this._processArguments();
          }
        } else if (this.commands.length) {
          checkForUnknownOptions();
          this.help({ error: true });
        } else {
          checkForUnknownOptions();
          this._processArguments();
        }
      }
      /**
       * Find matching command.
       *
       * @private
       * @return {Command | undefined}
       */
      _findCommand(name) {
        if (!name) return void 0;
        return this.commands.find((cmd) => cmd._name === name || cmd._aliases.includes(name));
      }
      /**
       * Return an option matching `arg` if any.
       *
       * @param {string} arg
       * @return {Option}
       * @package
       */
      _findOption(arg) {
        return this.options.find((option) => option.is(arg));
      }
      /**
       * Display an error message if a mandatory option does not have a value.
       * Called after checking for help flags in leaf subcommand.
       *
       * @private
       */
      _checkForMissingMandatoryOptions() {
        this._getCommandAndAncestors().forEach((cmd) => {
          cmd.options.forEach((anOption) => {
            if (anOption.mandatory && cmd.getOptionValue(anOption.attributeName()) === void 0) {
              cmd.missingMandatoryOptionValue(anOption);
            }
          });
        });
      }
      /**
       * Display an error message if conflicting options are used together in this.
       *
       * @private
       */
      _checkForConflictingLocalOptions() {
        const definedNonDefaultOptions = this.options.filter((option) => {
          const optionKey = option.attributeName();
          if (this.getOptionValue(optionKey) === void 0) {
            return false;
          }
          return this.getOptionValueSource(optionKey) !== "default";
        });
        const optionsWithConflicting = definedNonDefaultOptions.filter((option) => option.conflictsWith.length > 0);
        optionsWithConflicting.forEach((option) => {
          const conflictingAndDefined = definedNonDefaultOptions.find((defined) =>
            option.conflictsWith.includes(defined.attributeName()),
          );
          if (conflictingAndDefined) {
            this._conflictingOption(option, conflictingAndDefined);
          }
        });
      }
      /**
       * Display an error message if conflicting options are used together.
       * Called after checking for help flags in leaf subcommand.
       *
       * @private
       */
      _checkForConflictingOptions() {
        this._getCommandAndAncestors().forEach((cmd) => {
          cmd._checkForConflictingLocalOptions();
        });
      }
      /**
       * Parse options from `argv` removing known options,
       * and return argv split into operands and unknown arguments.
       *
       * Side effects: modifies command by storing options. Does not reset state if called again.
       *
       * Examples:
       *
       *     argv => operands, unknown
       *     --known kkk op => [op], []
       *     op --known kkk => [op], []
       *     sub --unknown uuu op => [sub], [--unknown uuu op]
       *     sub -- --unknown uuu op => [sub --unknown uuu op], []
       *
       * @param {string[]} args
       * @return {{operands: string[], unknown: string[]}}
       */
      parseOptions(args) {
        const operands = [];
        const unknown = [];
        let dest = operands;
        function maybeOption(arg) {
          return arg.length > 1 && arg[0] === "-";
        }
        const negativeNumberArg = (arg) => {
          if (!/^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(arg)) return false;
          return !this._getCommandAndAncestors().some((cmd) =>
            cmd.options.map((opt) => opt.short).some((short) => /^-\d$/.test(short)),
          );
        };
        let activeVariadicOption = null;
        let activeGroup = null;
        let i = 0;
        while (i < args.length || activeGroup) {
          const arg = activeGroup ?? args[i++];
          activeGroup = null;
          if (arg === "--") {
            if (dest === unknown) dest.push(arg);
            dest.push(...args.slice(i));
            break;
          }
          if (activeVariadicOption && (!maybeOption(arg) || negativeNumberArg(arg))) {
            this.emit(`option:${activeVariadicOption.name()}`, arg);
            continue;
          }
          activeVariadicOption = null;
          if (maybeOption(arg)) {
            const option = this._findOption(arg);
            if (option) {
              if (option.required) {
                const value = args[i++];
                if (value === void 0) this.optionMissingArgument(option);
                this.emit(`option:${option.name()}`, value);
              } else if (option.optional) {
                let value = null;
                if (i < args.length && (!maybeOption(args[i]) || negativeNumberArg(args[i]))) {
                  value = args[i++];
                }
                this.emit(`option:${option.name()}`, value);
              } else {
                this.emit(`option:${option.name()}`);
              }
              activeVariadicOption = option.variadic ? option : null;
              continue;
            }
          }
          if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
            const option = this._findOption(`-${arg[1]}`);
            if (option) {
              if (option.required || (option.optional && this._combineFlagAndOptionalValue)) {
                this.emit(`option:${option.name()}`, arg.slice(2));
              } else {
                this.emit(`option:${option.name()}`);
                activeGroup = `-${arg.slice(2)}`;
              }
              continue;
            }
          }
          if (/^--[^=]+=/.test(arg)) {
            const index = arg.indexOf("=");
            const option = this._findOption(arg.slice(0, index));
            if (option && (option.required || option.optional)) {
              this.emit(`option:${option.name()}`, arg.slice(index + 1));
              continue;
            }
          }
          if (dest === operands && maybeOption(arg) && !(this.commands.length === 0 && negativeNumberArg(arg))) {
            dest = unknown;
          }
          if (
            (this._enablePositionalOptions || this._passThroughOptions) &&
            operands.length === 0 &&
            unknown.length === 0
          ) {
            if (this._findCommand(arg)) {
              operands.push(arg);
              unknown.push(...args.slice(i));
              break;
            } else if (this._getHelpCommand() && arg === this._getHelpCommand().name()) {
              operands.push(arg, ...args.slice(i));
              break;
            } else if (this._defaultCommandName) {
              unknown.push(arg, ...args.slice(i));
              break;
            }
          }
          if (this._passThroughOptions) {
            dest.push(arg, ...args.slice(i));
            break;
          }
          dest.push(arg);
        }
        return { operands, unknown };
      }
      /**
       * Return an object containing local option values as key-value pairs.
       *
       * @return {object}
       */
      opts() {
        if (this._storeOptionsAsProperties) {
          const result = {};
          const len = this.options.length;
          for (let i = 0; i < len; i++) {
            const key = this.options[i].attributeName();
            result[key] = key === this._versionOptionName ? this._version : this[key];
          }
          return result;
        }
        return this._optionValues;
      }
      /**
       * Return an object containing merged local and global option values as key-value pairs.
       *
       * @return {object}
       */
      optsWithGlobals() {
        return this._getCommandAndAncestors().reduce(
          (combinedOptions, cmd) => Object.assign(combinedOptions, cmd.opts()),
          {},
        );
      }
      /**
       * Display error message and exit (or call exitOverride).
       *
       * @param {string} message
       * @param {object} [errorOptions]
       * @param {string} [errorOptions.code] - an id string representing the error
       * @param {number} [errorOptions.exitCode] - used with process.exit
       */
      error(message, errorOptions) {
        this._outputConfiguration.outputError(
          `${message}
`,
          this._outputConfiguration.writeErr,
        );
        if (typeof this._showHelpAfterError === "string") {
          this._outputConfiguration.writeErr(`${this._showHelpAfterError}
`);
        } else if (this._showHelpAfterError) {
          this._outputConfiguration.writeErr("\n");
          this.outputHelp({ error: true });
        }
        const config = errorOptions || {};
        const exitCode = config.exitCode || 1;
        const code = config.code || "commander.error";
        this._exit(exitCode, code, message);
      }
      /**
       * Apply any option related environment variables, if option does
       * not have a value from cli or client code.
       *
       * @private
       */
      _parseOptionsEnv() {
        this.options.forEach((option) => {
          if (option.envVar && option.envVar in process2.env) {
            const optionKey = option.attributeName();
            if (
              this.getOptionValue(optionKey) === void 0 ||
              ["default", "config", "env"].includes(this.getOptionValueSource(optionKey))
            ) {
              if (option.required || option.optional) {
                this.emit(`optionEnv:${option.name()}`, process2.env[option.envVar]);
              } else {
                this.emit(`optionEnv:${option.name()}`);
              }
            }
          }
        });
      }
      /**
       * Apply any implied option values, if option is undefined or default value.
       *
       * @private
       */
      _parseOptionsImplied() {
        const dualHelper = new DualOptions(this.options);
        const hasCustomOptionValue = (optionKey) => {
          return (
            this.getOptionValue(optionKey) !== void 0 &&
            !["default", "implied"].includes(this.getOptionValueSource(optionKey))
          );
        };
        this.options
          .filter(
            (option) =>
              option.implied !== void 0 &&
              hasCustomOptionValue(option.attributeName()) &&
              dualHelper.valueFromOption(this.getOptionValue(option.attributeName()), option),
          )
          .forEach((option) => {
            Object.keys(option.implied)
              .filter((impliedKey) => !hasCustomOptionValue(impliedKey))
              .forEach((impliedKey) => {
                this.setOptionValueWithSource(impliedKey, option.implied[impliedKey], "implied");
              });
          });
      }
      /**
       * Argument `name` is missing.
       *
       * @param {string} name
       * @private
       */
      missingArgument(name) {
        const message = `error: missing required argument '${name}'`;
        this.error(message, { code: "commander.missingArgument" });
      }
      /**
       * `Option` is missing an argument.
       *
       * @param {Option} option
       * @private
       */
      optionMissingArgument(option) {
        const message = `error: option '${option.flags}' argument missing`;
        this.error(message, { code: "commander.optionMissingArgument" });
      }
      /**
       * `Option` does not have a value, and is a mandatory option.
       *
       * @param {Option} option
       * @private
       */
      missingMandatoryOptionValue(option) {
        const message = `error: required option '${option.flags}' not specified`;
        this.error(message, { code: "commander.missingMandatoryOptionValue" });
      }
      /**
       * `Option` conflicts with another option.
       *
       * @param {Option} option
       * @param {Option} conflictingOption
       * @private
       */
      _conflictingOption(option, conflictingOption) {
        const findBestOptionFromValue = (option2) => {
          const optionKey = option2.attributeName();
          const optionValue = this.getOptionValue(optionKey);
          const negativeOption = this.options.find((target) => target.negate && optionKey === target.attributeName());
          const positiveOption = this.options.find((target) => !target.negate && optionKey === target.attributeName());
          if (
            negativeOption &&
            ((negativeOption.presetArg === void 0 && optionValue === false) ||
              (negativeOption.presetArg !== void 0 && optionValue === negativeOption.presetArg))
          ) {
            return negativeOption;
          }
          return positiveOption || option2;
        };
        const getErrorMessage = (option2) => {
          const bestOption = findBestOptionFromValue(option2);
          const optionKey = bestOption.attributeName();
          const source = this.getOptionValueSource(optionKey);
          if (source === "env") {
            return `environment variable '${bestOption.envVar}'`;
          }
          return `option '${bestOption.flags}'`;
        };
        const message = `error: ${getErrorMessage(option)} cannot be used with ${getErrorMessage(conflictingOption)}`;
        this.error(message, { code: "commander.conflictingOption" });
      }
      /**
       * Unknown option `flag`.
       *
       * @param {string} flag
       * @private
       */
      unknownOption(flag) {
        if (this._allowUnknownOption) return;
        let suggestion = "";
        if (flag.startsWith("--") && this._showSuggestionAfterError) {
          let candidateFlags = [];
          let command = this;
          do {
            const moreFlags = command
              .createHelp()
              .visibleOptions(command)
              .filter((option) => option.long)
              .map((option) => option.long);
            candidateFlags = candidateFlags.concat(moreFlags);
            command = command.parent;
          } while (command && !command._enablePositionalOptions);
          suggestion = suggestSimilar(flag, candidateFlags);
        }
        const message = `error: unknown option '${flag}'${suggestion}`;
        this.error(message, { code: "commander.unknownOption" });
      }
      /**
       * Excess arguments, more than expected.
       *
       * @param {string[]} receivedArgs
       * @private
       */
      _excessArguments(receivedArgs) {
        if (this._allowExcessArguments) return;
        const expected = this.registeredArguments.length;
        const s = expected === 1 ? "" : "s";
        const forSubcommand = this.parent ? ` for '${this.name()}'` : "";
        const message = `error: too many arguments${forSubcommand}. Expected ${expected} argument${s} but got ${receivedArgs.length}.`;
        this.error(message, { code: "commander.excessArguments" });
      }
      /**
       * Unknown command.
       *
       * @private
       */
      unknownCommand() {
        const unknownName = this.args[0];
        let suggestion = "";
        if (this._showSuggestionAfterError) {
          const candidateNames = [];
          this.createHelp()
            .visibleCommands(this)
            .forEach((command) => {
              candidateNames.push(command.name());
              if (command.alias()) candidateNames.push(command.alias());
            });
          suggestion = suggestSimilar(unknownName, candidateNames);
        }
        const message = `error: unknown command '${unknownName}'${suggestion}`;
        this.error(message, { code: "commander.unknownCommand" });
      }
      /**
       * Get or set the program version.
       *
       * This method auto-registers the "-V, --version" option which will print the version number.
       *
       * You can optionally supply the flags and description to override the defaults.
       *
       * @param {string} [str]
       * @param {string} [flags]
       * @param {string} [description]
       * @return {(this | string | undefined)} `this` command for chaining, or version string if no arguments
       */
      version(str, flags, description) {
        if (str === void 0) return this._version;
        this._version = str;
        flags = flags || "-V, --version";
        description = description || "output the version number";
        const versionOption = this.createOption(flags, description);
        this._versionOptionName = versionOption.attributeName();
        this._registerOption(versionOption);
        this.on("option:" + versionOption.name(), () => {
          this._outputConfiguration.writeOut(`${str}
`);
          this._exit(0, "commander.version", str);
        });
        return this;
      }
      /**
       * Set the description.
       *
       * @param {string} [str]
       * @param {object} [argsDescription]
       * @return {(string|Command)}
       */
      description(str, argsDescription) {
        if (str === void 0 && argsDescription === void 0) return this._description;
        this._description = str;
        if (argsDescription) {
          this._argsDescription = argsDescription;
        }
        return this;
      }
      /**
       * Set the summary. Used when listed as subcommand of parent.
       *
       * @param {string} [str]
       * @return {(string|Command)}
       */
      summary(str) {
        if (str === void 0) return this._summary;
        this._summary = str;
        return this;
      }
      /**
       * Set an alias for the command.
       *
       * You may call more than once to add multiple aliases. Only the first alias is shown in the auto-generated help.
       *
       * @param {string} [alias]
       * @return {(string|Command)}
       */
      alias(alias) {
        if (alias === void 0) return this._aliases[0];
        let command = this;
        if (this.commands.length !== 0 && this.commands[this.commands.length - 1]._executableHandler) {
          command = this.commands[this.commands.length - 1];
        }
        if (alias === command._name) throw new Error("Command alias can't be the same as its name");
        const matchingCommand = this.parent?._findCommand(alias);
        if (matchingCommand) {
          const existingCmd = [matchingCommand.name()].concat(matchingCommand.aliases()).join("|");
          throw new Error(
            `cannot add alias '${alias}' to command '${this.name()}' as already have command '${existingCmd}'`,
          );
        }
        command._aliases.push(alias);
        return this;
      }
      /**
       * Set aliases for the command.
       *
       * Only the first alias is shown in the auto-generated help.
       *
       * @param {string[]} [aliases]
       * @return {(string[]|Command)}
       */
      aliases(aliases) {
        if (aliases === void 0) return this._aliases;
        aliases.forEach((alias) => this.alias(alias));
        return this;
      }
      /**
       * Set / get the command usage `str`.
       *
       * @param {string} [str]
       * @return {(string|Command)}
       */
      usage(str) {
        if (str === void 0) {
          if (this._usage) return this._usage;
          const args = this.registeredArguments.map((arg) => {
            return humanReadableArgName(arg);
          });
          return []
            .concat(
              this.options.length || this._helpOption !== null ? "[options]" : [],
              this.commands.length ? "[command]" : [],
              this.registeredArguments.length ? args : [],
            )
            .join(" ");
        }
        this._usage = str;
        return this;
      }
      /**
       * Get or set the name of the command.
       *
       * @param {string} [str]
       * @return {(string|Command)}
       */
      name(str) {
        if (str === void 0) return this._name;
        this._name = str;
        return this;
      }
      /**
       * Set/get the help group heading for this subcommand in parent command's help.
       *
       * @param {string} [heading]
       * @return {Command | string}
       */
      helpGroup(heading) {
        if (heading === void 0) return this._helpGroupHeading ?? "";
        this._helpGroupHeading = heading;
        return this;
      }
      /**
       * Set/get the default help group heading for subcommands added to this command.
       * (This does not override a group set directly on the subcommand using .helpGroup().)
       *
       * @example
       * program.commandsGroup('Development Commands:);
       * program.command('watch')...
       * program.command('lint')...
       * ...
       *
       * @param {string} [heading]
       * @returns {Command | string}
       */
      commandsGroup(heading) {
        if (heading === void 0) return this._defaultCommandGroup ?? "";
        this._defaultCommandGroup = heading;
        return this;
      }
      /**
       * Set/get the default help group heading for options added to this command.
       * (This does not override a group set directly on the option using .helpGroup().)
       *
       * @example
       * program
       *   .optionsGroup('Development Options:')
       *   .option('-d, --debug', 'output extra debugging')
       *   .option('-p, --profile', 'output profiling information')
       *
       * @param {string} [heading]
       * @returns {Command | string}
       */
      optionsGroup(heading) {
        if (heading === void 0) return this._defaultOptionGroup ?? "";
        this._defaultOptionGroup = heading;
        return this;
      }
      /**
       * @param {Option} option
       * @private
       */
      _initOptionGroup(option) {
        if (this._defaultOptionGroup && !option.helpGroupHeading) option.helpGroup(this._defaultOptionGroup);
      }
      /**
       * @param {Command} cmd
       * @private
       */
      _initCommandGroup(cmd) {
        if (this._defaultCommandGroup && !cmd.helpGroup()) cmd.helpGroup(this._defaultCommandGroup);
      }
      /**
       * Set the name of the command from script filename, such as process.argv[1],
       * or require.main.filename, or __filename.
       *
       * (Used internally and public although not documented in README.)
       *
       * @example
       * program.nameFromFilename(require.main.filename);
       *
       * @param {string} filename
       * @return {Command}
       */
      nameFromFilename(filename) {
        this._name = path.basename(filename, path.extname(filename));
        return this;
      }
      /**
       * Get or set the directory for searching for executable subcommands of this command.
       *
       * @example
       * program.executableDir(__dirname);
       * // or
       * program.executableDir('subcommands');
       *
       * @param {string} [path]
       * @return {(string|null|Command)}
       */
      executableDir(path2) {
        if (path2 === void 0) return this._executableDir;
        this._executableDir = path2;
        return this;
      }
      /**
       * Return program help documentation.
       *
       * @param {{ error: boolean }} [contextOptions] - pass {error:true} to wrap for stderr instead of stdout
       * @return {string}
       */
      helpInformation(contextOptions) {
        const helper = this.createHelp();
        const context = this._getOutputContext(contextOptions);
        helper.prepareContext({
          error: context.error,
          helpWidth: context.helpWidth,
          outputHasColors: context.hasColors,
        });
        const text = helper.formatHelp(this, helper);
        if (context.hasColors) return text;
        return this._outputConfiguration.stripColor(text);
      }
      /**
       * @typedef HelpContext
       * @type {object}
       * @property {boolean} error
       * @property {number} helpWidth
       * @property {boolean} hasColors
       * @property {function} write - includes stripColor if needed
       *
       * @returns {HelpContext}
       * @private
       */
      _getOutputContext(contextOptions) {
        contextOptions = contextOptions || {};
        const error = !!contextOptions.error;
        let baseWrite;
        let hasColors;
        let helpWidth;
        if (error) {
          baseWrite = (str) => this._outputConfiguration.writeErr(str);
          hasColors = this._outputConfiguration.getErrHasColors();
          helpWidth = this._outputConfiguration.getErrHelpWidth();
        } else {
          baseWrite = (str) => this._outputConfiguration.writeOut(str);
          hasColors = this._outputConfiguration.getOutHasColors();
          helpWidth = this._outputConfiguration.getOutHelpWidth();
        }
        const write = (str) => {
          if (!hasColors) str = this._outputConfiguration.stripColor(str);
          return baseWrite(str);
        };
        return { error, write, hasColors, helpWidth };
      }
      /**
       * Output help information for this command.
       *
       * Outputs built-in help, and custom text added using `.addHelpText()`.
       *
       * @param {{ error: boolean } | Function} [contextOptions] - pass {error:true} to write to stderr instead of stdout
       */
      outputHelp(contextOptions) {
        let deprecatedCallback;
        if (typeof contextOptions === "function") {
          deprecatedCallback = contextOptions;
          contextOptions = void 0;
        }
        const outputContext = this._getOutputContext(contextOptions);
        const eventContext = {
          error: outputContext.error,
          write: outputContext.write,
          command: this,
        };
        this._getCommandAndAncestors()
          .reverse()
          .forEach((command) => command.emit("beforeAllHelp", eventContext));
        this.emit("beforeHelp", eventContext);
        let helpInformation = this.helpInformation({ error: outputContext.error });
        if (deprecatedCallback) {
          helpInformation = deprecatedCallback(helpInformation);
          if (typeof helpInformation !== "string" && !Buffer.isBuffer(helpInformation)) {
            throw new Error("outputHelp callback must return a string or a Buffer");
          }
        }
        outputContext.write(helpInformation);
        if (this._getHelpOption()?.long) {
          this.emit(this._getHelpOption().long);
        }
        this.emit("afterHelp", eventContext);
        this._getCommandAndAncestors().forEach((command) => command.emit("afterAllHelp", eventContext));
      }
      /**
       * You can pass in flags and a description to customise the built-in help option.
       * Pass in false to disable the built-in help option.
       *
       * @example
       * program.helpOption('-?, --help' 'show help'); // customise
       * program.helpOption(false); // disable
       *
       * @param {(string | boolean)} flags
       * @param {string} [description]
       * @return {Command} `this` command for chaining
       */
      helpOption(flags, description) {
        if (typeof flags === "boolean") {
          if (flags) {
            if (this._helpOption === null) this._helpOption = void 0;
            if (this._defaultOptionGroup) {
              this._initOptionGroup(this._getHelpOption());
            }
          } else {
            this._helpOption = null;
          }
          return this;
        }
        this._helpOption = this.createOption(flags ?? "-h, --help", description ?? "display help for command");
        if (flags || description) this._initOptionGroup(this._helpOption);
        return this;
      }
      /**
       * Lazy create help option.
       * Returns null if has been disabled with .helpOption(false).
       *
       * @returns {(Option | null)} the help option
       * @package
       */
      _getHelpOption() {
        if (this._helpOption === void 0) {
          this.helpOption(void 0, void 0);
        }
        return this._helpOption;
      }
      /**
       * Supply your own option to use for the built-in help option.
       * This is an alternative to using helpOption() to customise the flags and description etc.
       *
       * @param {Option} option
       * @return {Command} `this` command for chaining
       */
      addHelpOption(option) {
        this._helpOption = option;
        this._initOptionGroup(option);
        return this;
      }
      /**
       * Output help information and exit.
       *
       * Outputs built-in help, and custom text added using `.addHelpText()`.
       *
       * @param {{ error: boolean }} [contextOptions] - pass {error:true} to write to stderr instead of stdout
       */
      help(contextOptions) {
        this.outputHelp(contextOptions);
        let exitCode = Number(process2.exitCode ?? 0);
        if (exitCode === 0 && contextOptions && typeof contextOptions !== "function" && contextOptions.error) {
          exitCode = 1;
        }
        this._exit(exitCode, "commander.help", "(outputHelp)");
      }
      /**
       * // Do a little typing to coordinate emit and listener for the help text events.
       * @typedef HelpTextEventContext
       * @type {object}
       * @property {boolean} error
       * @property {Command} command
       * @property {function} write
       */
      /**
       * Add additional text to be displayed with the built-in help.
       *
       * Position is 'before' or 'after' to affect just this command,
       * and 'beforeAll' or 'afterAll' to affect this command and all its subcommands.
       *
       * @param {string} position - before or after built-in help
       * @param {(string | Function)} text - string to add, or a function returning a string
       * @return {Command} `this` command for chaining
       */
      addHelpText(position, text) {
        const allowedValues = ["beforeAll", "before", "after", "afterAll"];
        if (!allowedValues.includes(position)) {
          throw new Error(`Unexpected value for position to addHelpText.
Expecting one of '${allowedValues.join("', '")}'`);
        }
        const helpEvent = `${position}Help`;
        this.on(helpEvent, (context) => {
          let helpStr;
          if (typeof text === "function") {
            helpStr = text({ error: context.error, command: context.command });
          } else {
            helpStr = text;
          }
          if (helpStr) {
            context.write(`${helpStr}
`);
          }
        });
        return this;
      }
      /**
       * Output help information if help flags specified
       *
       * @param {Array} args - array of options to search for help flags
       * @private
       */
      _outputHelpIfRequested(args) {
        const helpOption = this._getHelpOption();
        const helpRequested = helpOption && args.find((arg) => helpOption.is(arg));
        if (helpRequested) {
          this.outputHelp();
          this._exit(0, "commander.helpDisplayed", "(outputHelp)");
        }
      }
    };
    function incrementNodeInspectorPort(args) {
      return args.map((arg) => {
        if (!arg.startsWith("--inspect")) {
          return arg;
        }
        let debugOption;
        let debugHost = "127.0.0.1";
        let debugPort = "9229";
        let match;
        if ((match = arg.match(/^(--inspect(-brk)?)$/)) !== null) {
          debugOption = match[1];
        } else if ((match = arg.match(/^(--inspect(-brk|-port)?)=([^:]+)$/)) !== null) {
          debugOption = match[1];
          if (/^\d+$/.test(match[3])) {
            debugPort = match[3];
          } else {
            debugHost = match[3];
          }
        } else if ((match = arg.match(/^(--inspect(-brk|-port)?)=([^:]+):(\d+)$/)) !== null) {
          debugOption = match[1];
          debugHost = match[3];
          debugPort = match[4];
        }
        if (debugOption && debugPort !== "0") {
          return `${debugOption}=${debugHost}:${parseInt(debugPort) + 1}`;
        }
        return arg;
      });
    }
    function useColor() {
      if (process2.env.NO_COLOR || process2.env.FORCE_COLOR === "0" || process2.env.FORCE_COLOR === "false")
        return false;
      if (process2.env.FORCE_COLOR || process2.env.CLICOLOR_FORCE !== void 0) return true;
      return void 0;
    }
    exports2.Command = Command2;
    exports2.useColor = useColor;
  },
});

// ../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/index.js
var require_commander = __commonJS({
  "../../node_modules/.pnpm/commander@14.0.3/node_modules/commander/index.js"(exports2) {
    var { Argument: Argument2 } = require_argument();
    var { Command: Command2 } = require_command();
    var { CommanderError: CommanderError2, InvalidArgumentError: InvalidArgumentError2 } = require_error();
    var { Help: Help2 } = require_help();
    var { Option: Option2 } = require_option();
    exports2.program = new Command2();
    exports2.createCommand = (name) => new Command2(name);
    exports2.createOption = (flags, description) => new Option2(flags, description);
    exports2.createArgument = (name, description) => new Argument2(name, description);
    exports2.Command = Command2;
    exports2.Option = Option2;
    exports2.Argument = Argument2;
    exports2.Help = Help2;
    exports2.CommanderError = CommanderError2;
    exports2.InvalidArgumentError = InvalidArgumentError2;
    exports2.InvalidOptionArgumentError = InvalidArgumentError2;
  },
});

// ../../node_modules/.pnpm/@commander-js+extra-typings@14.0.0_commander@14.0.3/node_modules/@commander-js/extra-typings/index.js
var require_extra_typings = __commonJS({
  "../../node_modules/.pnpm/@commander-js+extra-typings@14.0.0_commander@14.0.3/node_modules/@commander-js/extra-typings/index.js"(
    exports2,
    module2,
  ) {
    var commander = require_commander();
    exports2 = module2.exports = {};
    exports2.program = new commander.Command();
    exports2.Argument = commander.Argument;
    exports2.Command = commander.Command;
    exports2.CommanderError = commander.CommanderError;
    exports2.Help = commander.Help;
    exports2.InvalidArgumentError = commander.InvalidArgumentError;
    exports2.InvalidOptionArgumentError = commander.InvalidArgumentError;
    exports2.Option = commander.Option;
    exports2.createCommand = (name) => new commander.Command(name);
    exports2.createOption = (flags, description) => new commander.Option(flags, description);
    exports2.createArgument = (name, description) => new commander.Argument(name, description);
  },
});

// ../../packages/cli-kit/src/cli-error.ts
var KIT_EXIT = {
  ok: 0,
  /** A {@link CliError} `not-found` or `problems`. */
  notFound: 1,
  /** A wrong command line: commander's argument errors and {@link CliError} `usage`. */
  usage: 2,
  /** The world outside failed: files, locks, a host that cannot be reached. */
  io: 3,
  /** An error no table knows: a bug, reported as `tool: internal error: …`. */
  internal: 3,
};
var CliError = class extends Error {
  constructor(code, message, hint, details) {
    super(message);
    this.code = code;
    this.hint = hint;
    this.details = details;
  }
  code;
  hint;
  details;
  name = "CliError";
};

// ../../packages/cli-kit/src/error-table.ts
function errorsByCode(recognise, exitCodes, otherwise, prefix = "") {
  return (error) => {
    if (!recognise(error)) return void 0;
    const exitCode = exitCodes[error.code] ?? otherwise;
    const { hint, details } = error;
    return {
      code: error.code,
      message: `${prefix}${error.message}`,
      exitCode,
      ...(typeof hint === "string" ? { hint } : {}),
      ...(typeof details === "object" && details !== null ? { details } : {}),
    };
  };
}
var cliErrorRule = (error) => {
  if (!(error instanceof CliError)) return void 0;
  return {
    code: error.code,
    message: error.message,
    exitCode: error.code === "usage" ? KIT_EXIT.usage : KIT_EXIT.notFound,
    ...(error.hint === void 0 ? {} : { hint: error.hint }),
    ...(error.details === void 0 ? {} : { details: error.details }),
  };
};
function failureOf(error, rules) {
  for (const rule of [cliErrorRule, ...rules]) {
    const failure = rule(error);
    if (failure) return failure;
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: "internal", message: `internal error: ${what}`, exitCode: KIT_EXIT.internal };
}

// ../../packages/cli-kit/src/duration.ts
var UNIT_MS = { ms: 1, s: 1e3, m: 6e4, h: 36e5 };
var DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/;
function parseDuration(text, spec) {
  const match = DURATION.exec(text.trim());
  const min = spec.minMs ?? 0;
  const fail = (why) =>
    new CliError(
      "usage",
      `invalid ${spec.option} ${JSON.stringify(text)}: ${why} (e.g. 500ms, 5s, 2m)`,
      ...(spec.hint === void 0 ? [] : [spec.hint]),
    );
  if (!match) throw fail("a number with a unit: ms, s, m or h");
  const unit = match[2] ?? spec.bareUnit;
  const ms = Math.round(Number(match[1]) * UNIT_MS[unit]);
  if (ms < min || (spec.maxMs !== void 0 && ms > spec.maxMs))
    throw fail(`from ${formatDuration(min)}${spec.maxMs === void 0 ? "" : ` to ${formatDuration(spec.maxMs)}`}`);
  if (match[2] !== void 0) return { ms };
  return {
    ms,
    deprecation: `${spec.option} ${text.trim()} without a unit is read as ${spec.bareUnit === "ms" ? "milliseconds" : "seconds"}; write ${text.trim()}${spec.bareUnit} (a number without a unit will be refused in a later release)`,
  };
}
function formatDuration(ms) {
  for (const unit of ["h", "m", "s"]) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

// ../../packages/cli-kit/src/printable.ts
var UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;
var SHORT_ESCAPES = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "	": "\\t" };
function printable(text) {
  return text.replace(UNPRINTABLE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// ../../packages/cli-kit/src/progress.ts
var ERASE_LINE = "\r\x1B[2K";
function startProgress(stream, prefix, text) {
  if (stream.isTTY !== true) return { update() {}, done() {} };
  let shown = false;
  const update = (next) => {
    stream.write(`${ERASE_LINE}${prefix}${next}`);
    shown = true;
  };
  update(text);
  return {
    update,
    done() {
      if (shown) stream.write(ERASE_LINE);
      shown = false;
    },
  };
}

// ../../packages/cli-kit/src/read-pairs.ts
function decodeText(input, source) {
  if (typeof input === "string") return input.startsWith("\uFEFF") ? input.slice(1) : input;
  const [b0, b1, b2] = input;
  let encoding = "utf-8";
  let skip = 0;
  if (b0 === 239 && b1 === 187 && b2 === 191) skip = 3;
  else if (b0 === 255 && b1 === 254) [encoding, skip] = ["utf-16le", 2];
  else if (b0 === 254 && b1 === 255) [encoding, skip] = ["utf-16be", 2];
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(input.subarray(skip));
  } catch {
    throw new CliError(
      "usage",
      `${source}: not valid ${encoding === "utf-8" ? "UTF-8" : encoding.toUpperCase()} (save it as UTF-8, or as UTF-16 with a byte-order mark)`,
    );
  }
}
function parsePairs(text, source, hint) {
  const trimmed = text.trimStart();
  return trimmed.startsWith("{") ? parseJsonPairs(trimmed, source, hint) : parseLinePairs(text, source, hint);
}
function usage(message, hint) {
  return new CliError("usage", message, ...(hint === void 0 ? [] : [hint]));
}
function parseJsonPairs(text, source, hint) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usage(`${source}: not valid JSON (${error.message})`, hint);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw usage(`${source}: expected a JSON object of key/value pairs`, hint);
  return Object.entries(parsed).map(([key, value]) => {
    if (typeof value === "string") return { key, value };
    if (typeof value === "number" || typeof value === "boolean") return { key, value: String(value) };
    throw usage(
      `${source}: value of ${JSON.stringify(key)} is ${value === null ? "null" : Array.isArray(value) ? "an array" : "an object"}; values must be strings, numbers or booleans`,
      hint,
    );
  });
}
function parseLinePairs(text, source, hint) {
  const pairs = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      const shown = line.length > 60 ? `${line.slice(0, 57)}...` : line;
      throw usage(`${source} line ${i + 1}: expected KEY=VALUE, got ${JSON.stringify(shown)}`, hint);
    }
    pairs.push({ key: line.slice(0, eq), value: line.slice(eq + 1) });
  });
  return pairs;
}
async function readPairsInput(file, from, hint) {
  const source = file === "-" ? "stdin" : file;
  let input;
  try {
    if (file === "-") input = await from.readStdin();
    else if (from.readFile) input = await from.readFile(file);
    else input = await (await import("node:fs/promises")).readFile(file);
  } catch (error) {
    const code = error.code;
    if (typeof code !== "string") throw error;
    throw usage(`cannot read --from-file ${JSON.stringify(file)}: ${code}`, hint);
  }
  return parsePairs(decodeText(input, source), source, hint);
}

// ../../packages/cli-kit/src/run-cli.ts
var import_node_fs = require("node:fs");

// ../../node_modules/.pnpm/@commander-js+extra-typings@14.0.0_commander@14.0.3/node_modules/@commander-js/extra-typings/esm.mjs
var import_index = __toESM(require_extra_typings(), 1);
var {
  program,
  createCommand,
  createArgument,
  createOption,
  CommanderError,
  InvalidArgumentError,
  InvalidOptionArgumentError,
  // deprecated old name
  Command,
  Argument,
  Option,
  Help,
} = import_index.default;

// ../../packages/cli-kit/src/streams.ts
function endQuietlyOnBrokenPipe(streams, end) {
  for (const stream of streams) {
    stream.on("error", (error) => {
      if (error.code === "EPIPE") return end();
      throw error;
    });
  }
}

// ../../packages/cli-kit/src/run-cli.ts
var DEBUG_ENV = "KVP_DEBUG";
var NOT_ERRORS = /* @__PURE__ */ new Set(["commander.helpDisplayed", "commander.help", "commander.version"]);
async function runCli(spec, argv, io2) {
  const { tool } = spec;
  let exitCode = KIT_EXIT.ok;
  const stop = io2.signal ? { signal: () => io2.signal, release() {} } : stopOnSignals(io2.signals);
  const program2 = new Command(tool)
    .description(spec.description)
    .version(spec.version, "-V, --version", "print the version")
    .exitOverride()
    .showHelpAfterError(`(run ${tool} --help for usage)`)
    .configureOutput({
      writeOut: (s) => io2.stdout.write(s),
      writeErr: (s) => io2.stderr.write(s),
      // commander would ask process.stdout itself, creating the stream (see processStream).
      // No width off a terminal: commander then wraps at 80, as it does by itself (its types
      // say number; its own default returns undefined the same way).
      getOutHelpWidth: () => (io2.stdout.isTTY ? io2.stdout.columns : void 0),
      getErrHelpWidth: () => (io2.stderr.isTTY ? io2.stderr.columns : void 0),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
      outputError: (s, write) => write(s.startsWith("error: ") ? `${tool}: ${s.slice(7)}` : s),
    });
  spec.configure?.(program2);
  const run = {
    tool,
    io: io2,
    get signal() {
      return stop.signal();
    },
    json: (data) =>
      io2.stdout.write(`${JSON.stringify(data, null, 2)}
`),
    note: (text) =>
      io2.stderr.write(`${tool}: note: ${text}
`),
    warn: (text) =>
      io2.stderr.write(`${tool}: warning: ${text}
`),
    setExitCode: (code) => {
      exitCode = code;
    },
    duration: (text, durationSpec) => {
      const parsed = parseDuration(text, durationSpec);
      if (parsed.deprecation !== void 0)
        io2.stderr.write(`${tool}: note: ${parsed.deprecation}
`);
      return parsed.ms;
    },
    progress: (text) => startProgress(io2.stderr, `${tool}: `, text),
  };
  const context = spec.context(run, program2);
  for (const command of spec.commands) command(program2, context);
  try {
    await program2.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return report(error, spec, io2, asksForJson(argv));
  } finally {
    stop.release();
  }
}
function asksForJson(argv) {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}
function report(error, spec, io2, json) {
  let failure;
  if (error instanceof CommanderError) {
    if (NOT_ERRORS.has(error.code)) return KIT_EXIT.ok;
    failure = { code: "usage", message: error.message.replace(/^error: /, ""), exitCode: KIT_EXIT.usage };
  } else {
    failure = failureOf(error, spec.errors ?? []);
    io2.stderr.write(`${spec.tool}: ${failure.message}
`);
    if (failure.hint !== void 0)
      io2.stderr.write(`(see: ${failure.hint})
`);
    if (failure.code === "internal" && io2.env[DEBUG_ENV] && error instanceof Error && error.stack)
      io2.stderr.write(`${error.stack}
`);
  }
  if (json) {
    const { code, message, exitCode, details } = failure;
    io2.stdout.write(`${JSON.stringify({ error: { ...details, code, message, exitCode } })}
`);
  }
  return failure.exitCode;
}
function stopOnSignals(source) {
  let controller;
  const listening = source ?? process;
  const abort = () => controller?.abort();
  return {
    signal() {
      if (controller === void 0) {
        controller = new AbortController();
        listening.on("SIGINT", abort);
        listening.on("SIGTERM", abort);
      }
      return controller.signal;
    },
    release() {
      if (controller === void 0) return;
      listening.off("SIGINT", abort);
      listening.off("SIGTERM", abort);
    },
  };
}
function launch(main2, options = {}) {
  const end = () => process.exit(process.exitCode ?? 0);
  whenCreated("stdout", (stream) => endQuietlyOnBrokenPipe([stream], end));
  whenCreated("stderr", (stream) => endQuietlyOnBrokenPipe([stream], end));
  void main2(process.argv).then((code) => {
    process.exitCode = code;
    if (options.exitWhenDone) process.exit(code);
  });
}
function whenCreated(name, use) {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const create = own?.get;
  if (own === void 0 || create === void 0 || own.configurable !== true) {
    use(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable ?? true,
    get() {
      Object.defineProperty(process, name, own);
      const stream = create.call(process);
      use(stream);
      return stream;
    },
  });
}
function processStream(name) {
  const fd = name === "stdout" ? 1 : 2;
  let direct = process.platform !== "win32";
  return {
    write: (text) => {
      if (direct) {
        const bytes = Buffer.from(text, "utf8");
        let done = 0;
        try {
          while (done < bytes.length) done += (0, import_node_fs.writeSync)(fd, bytes, done, bytes.length - done);
          return true;
        } catch (error) {
          if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
          direct = false;
          return process[name].write(bytes.subarray(done));
        }
      }
      return process[name].write(text);
    },
    // A terminal is a character device: anything else is answered without the stream.
    get isTTY() {
      return isCharacterDevice(fd) && process[name].isTTY === true;
    },
    get columns() {
      return process[name].columns;
    },
  };
}
function isCharacterDevice(fd) {
  try {
    return (0, import_node_fs.fstatSync)(fd).isCharacterDevice();
  } catch {
    return false;
  }
}
function processIo() {
  return { stdout: processStream("stdout"), stderr: processStream("stderr"), env: process.env, signals: process };
}

// ../../packages/kvp-core/src/errors.ts
var KvpError = class extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  code;
  name = "KvpError";
};
function isKvpError(error, code) {
  return error instanceof KvpError && (code === void 0 || error.code === code);
}

// ../../packages/kvp-core/src/layout.ts
var KEY_FIELD_BYTES = 512;
var VALUE_FIELD_BYTES = 2048;
var RECORD_BYTES = KEY_FIELD_BYTES + VALUE_FIELD_BYTES;
var VALUE_FIELD_OFFSET = KEY_FIELD_BYTES;
var MAX_KEY_BYTES = KEY_FIELD_BYTES - 1;
var MAX_VALUE_BYTES = VALUE_FIELD_BYTES - 1;
var HOST_MAX_KEY_UNITS = 254;
var HOST_MAX_VALUE_UNITS = 1022;

// ../../packages/kvp-core/src/utf8.ts
var encoder = new TextEncoder();
var strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
var lenientDecoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
function encodeUtf8(text) {
  return encoder.encode(text);
}
function decodeUtf8(bytes) {
  try {
    return { text: strictDecoder.decode(bytes), valid: true };
  } catch {
    return { text: lenientDecoder.decode(bytes), valid: false };
  }
}
function findLoneSurrogate(text) {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 55296 || unit > 57343) continue;
    if (unit <= 56319) {
      const next = text.charCodeAt(i + 1);
      if (next >= 56320 && next <= 57343) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}
function findInvalidUtf8(bytes) {
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i];
    if (b0 < 128) {
      i++;
      continue;
    }
    let need;
    let min;
    if (b0 >= 194 && b0 <= 223) {
      need = 1;
      min = 128;
    } else if (b0 >= 224 && b0 <= 239) {
      need = 2;
      min = 2048;
    } else if (b0 >= 240 && b0 <= 244) {
      need = 3;
      min = 65536;
    } else {
      return i;
    }
    if (i + need >= bytes.length) return i;
    let cp = b0 & (63 >> need);
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k];
      if ((b & 192) !== 128) return i;
      cp = (cp << 6) | (b & 63);
    }
    if (cp < min || cp > 1114111 || (cp >= 55296 && cp <= 57343)) return i;
    i += need + 1;
  }
  return -1;
}
function utf8BoundaryAtOrBefore(bytes, maxBytes) {
  if (maxBytes >= bytes.length) return bytes.length;
  let cut = maxBytes > 0 ? Math.floor(maxBytes) : 0;
  while (cut > 0 && (bytes[cut] & 192) === 128) cut--;
  return cut;
}
function utf16Units(text) {
  return text.length;
}

// ../../packages/kvp-core/src/record.ts
function validateRecord(record, options = {}) {
  const key = validateField("key", record.key, MAX_KEY_BYTES, 1);
  const value = validateField("value", record.value, MAX_VALUE_BYTES, 0);
  if (options.limits === "host") {
    assertHostVisible(record);
  }
  return { key, value };
}
function assertHostVisible(record) {
  const keyUnits = utf16Units(record.key);
  if (keyUnits > HOST_MAX_KEY_UNITS) {
    throw new KvpError(
      "invalid-key",
      `invalid key: longer than the host receives whole (${keyUnits} UTF-16 units, limit ${HOST_MAX_KEY_UNITS}; the host would see it truncated)`,
    );
  }
  const valueUnits = utf16Units(record.value);
  if (valueUnits > HOST_MAX_VALUE_UNITS) {
    throw new KvpError(
      "invalid-value",
      `invalid value: longer than the host receives whole (${valueUnits} UTF-16 units, limit ${HOST_MAX_VALUE_UNITS}; the host would see it truncated)`,
    );
  }
}
function isHostVisible(record) {
  return utf16Units(record.key) <= HOST_MAX_KEY_UNITS && utf16Units(record.value) <= HOST_MAX_VALUE_UNITS;
}
function codePointIndex(text, at) {
  let count = 0;
  for (const _ of text.slice(0, at)) count++;
  return count;
}
function validateField(field, text, maxBytes, minBytes) {
  const code = field === "key" ? "invalid-key" : "invalid-value";
  if (typeof text !== "string") throw new KvpError(code, `invalid ${field}: not a string`);
  const surrogate = findLoneSurrogate(text);
  if (surrogate >= 0) {
    throw new KvpError(
      code,
      `invalid ${field}: lone surrogate U+${text.charCodeAt(surrogate).toString(16).toUpperCase()} at character ${codePointIndex(text, surrogate)} has no UTF-8 form`,
    );
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    throw new KvpError(
      code,
      `invalid ${field}: contains NUL at character ${codePointIndex(text, nul)} (a field ends at its first NUL)`,
    );
  }
  const bytes = encodeUtf8(text);
  if (bytes.length > maxBytes) {
    throw new KvpError(code, `invalid ${field}: longer than ${maxBytes} bytes (${bytes.length})`);
  }
  if (bytes.length < minBytes) {
    throw new KvpError(code, `invalid ${field}: empty`);
  }
  return bytes;
}
function encodeRecord(record, options = {}) {
  const { key, value } = validateRecord(record, options);
  const out = new Uint8Array(RECORD_BYTES);
  out.set(key, 0);
  out.set(value, VALUE_FIELD_OFFSET);
  return out;
}
function decodeRecord(bytes, offset = 0, index = Math.floor(offset / RECORD_BYTES)) {
  if (offset < 0 || offset + RECORD_BYTES > bytes.length) {
    throw new KvpError(
      "truncated",
      `truncated record: ${Math.max(0, bytes.length - offset)} bytes at offset ${offset}, a record needs ${RECORD_BYTES}`,
    );
  }
  return decodeAt(bytes, offset, index, offset);
}
function decodeAt(bytes, start, index, reportedOffset) {
  const key = readField(bytes, start, KEY_FIELD_BYTES);
  const value = readField(bytes, start + VALUE_FIELD_OFFSET, VALUE_FIELD_BYTES);
  return {
    index,
    offset: reportedOffset,
    key: key.text,
    value: value.text,
    keyBytes: key.length,
    valueBytes: value.length,
    keyTerminated: key.terminated,
    valueTerminated: value.terminated,
    validUtf8: key.valid && value.valid,
    keyValidUtf8: key.valid,
  };
}
function mayHoldLogicalKey(bytes, offset, key) {
  if (key.length > KEY_FIELD_BYTES) return false;
  for (let i = 0; i < key.length; i++) if (bytes[offset + i] !== key[i]) return false;
  if (key.length === KEY_FIELD_BYTES) return true;
  const next = bytes[offset + key.length];
  return next === 0 || next === 35;
}
function fieldTextLength(bytes, start, size) {
  const nul = bytes.subarray(start, start + size).indexOf(0);
  return nul < 0 ? size : nul;
}
function readField(bytes, start, size) {
  const length = fieldTextLength(bytes, start, size);
  const { text, valid } = decodeUtf8(bytes.subarray(start, start + length));
  return { text, valid, length, terminated: length < size };
}
function decodePool(bytes, firstIndex = 0) {
  const count = Math.floor(bytes.length / RECORD_BYTES);
  const records = new Array(count);
  for (let i = 0; i < count; i++) {
    records[i] = decodeAt(bytes, i * RECORD_BYTES, firstIndex + i, (firstIndex + i) * RECORD_BYTES);
  }
  return { records, trailingBytes: bytes.length - count * RECORD_BYTES };
}

// ../../packages/kvp-core/src/pool-ops.ts
function keyMatcher(key, options = {}) {
  if (options.ignoreCase) {
    const folded = key.toLowerCase();
    return (record) => record.keyValidUtf8 !== false && record.key.toLowerCase() === folded;
  }
  return (record) => record.keyValidUtf8 !== false && record.key === key;
}

// ../../packages/kvp-core/src/kernel-text.ts
var MAX_CODE_POINT = 1114111;
var FIRST_SUPPLEMENTARY = 65536;
var HIGH_SURROGATE_FIRST = 55296;
var LOW_SURROGATE_FIRST = 56320;
var SURROGATE_LAST = 57343;
var SURROGATE_BITS = 10;
function kernelUtf8ToUtf16(bytes, maxUnits) {
  const units = [];
  let i = 0;
  while (i < bytes.length && units.length < maxUnits && bytes[i] !== 0) {
    const lead = bytes[i];
    if (lead < 128) {
      units.push(lead);
      i++;
      continue;
    }
    const decoded = decodeSequence(bytes, i);
    if (decoded === void 0) return { ok: false, offset: i };
    const [codePoint, size] = decoded;
    if (codePoint >= FIRST_SUPPLEMENTARY) {
      if (maxUnits - units.length < 2) break;
      const v = codePoint - FIRST_SUPPLEMENTARY;
      units.push(HIGH_SURROGATE_FIRST | (v >> SURROGATE_BITS), LOW_SURROGATE_FIRST | (v & 1023));
    } else {
      units.push(codePoint);
    }
    i += size;
  }
  const truncated = i < bytes.length && bytes[i] !== 0;
  return { ok: true, text: String.fromCharCode(...units), truncated };
}
var SEQUENCE_FORMS = [
  { mask: 224, lead: 192, size: 2, min: 128 },
  { mask: 240, lead: 224, size: 3, min: 2048 },
  { mask: 248, lead: 240, size: 4, min: 65536 },
  { mask: 252, lead: 248, size: 5, min: 2097152 },
  { mask: 254, lead: 252, size: 6, min: 67108864 },
];
function decodeSequence(bytes, at) {
  const lead = bytes[at];
  const form = SEQUENCE_FORMS.find((f) => (lead & f.mask) === f.lead);
  if (!form || at + form.size > bytes.length) return void 0;
  let codePoint = lead & (255 >> (form.size + 1));
  for (let k = 1; k < form.size; k++) {
    const next = bytes[at + k];
    if ((next & 192) !== 128) return void 0;
    codePoint = codePoint * 64 + (next & 63);
  }
  const surrogate = codePoint >= HIGH_SURROGATE_FIRST && codePoint <= SURROGATE_LAST;
  if (codePoint < form.min || codePoint > MAX_CODE_POINT || surrogate) return void 0;
  return [codePoint, form.size];
}

// ../../packages/kvp-core/src/check-pool.ts
var DEFAULT_MAX_DIAGNOSTICS_PER_CODE = 1e3;
var PoolChecker = class {
  constructor(options = {}) {
    this.options = options;
    const max = options.maxDiagnosticsPerCode ?? DEFAULT_MAX_DIAGNOSTICS_PER_CODE;
    this.maxPerCode = Number.isNaN(max) || max < 0 ? DEFAULT_MAX_DIAGNOSTICS_PER_CODE : max;
  }
  options;
  diagnostics = [];
  listed = /* @__PURE__ */ new Map();
  omitted = /* @__PURE__ */ new Map();
  omittedErrors = 0;
  omittedWarnings = 0;
  maxPerCode;
  exactKeys = /* @__PURE__ */ new Map();
  foldedKeys = /* @__PURE__ */ new Map();
  records = 0;
  firstInvalid = -1;
  /** Checks the whole records in `bytes`, which start at record `firstIndex` of the pool. */
  addChunk(bytes, firstIndex) {
    const count = Math.floor(bytes.length / RECORD_BYTES);
    for (let i = 0; i < count; i++) {
      const start = i * RECORD_BYTES;
      const record = decodeRecord(bytes, start, firstIndex + i);
      this.checkRecord(record, bytes.subarray(start, start + RECORD_BYTES), (firstIndex + i) * RECORD_BYTES);
    }
    this.records = Math.max(this.records, firstIndex + count);
  }
  /**
   * Completes the report; `trailingBytes` is what follows the last whole record. Each call
   * returns a fresh report (the checker's own list is left as it was).
   */
  finish(trailingBytes) {
    const diagnostics = [...this.diagnostics];
    if (trailingBytes > 0) {
      diagnostics.push({
        code: "trailing-fragment",
        severity: "warning",
        index: this.records,
        offset: this.records * RECORD_BYTES,
        count: trailingBytes,
        message: `trailing fragment of ${trailingBytes} bytes after the last whole record (ignored by the daemon, dropped at its next rewrite)`,
      });
    }
    if (this.firstInvalid >= 0 && this.firstInvalid < this.records - 1 && this.options.hostReads !== false) {
      const hidden = this.records - 1 - this.firstInvalid;
      diagnostics.push({
        code: "hidden-from-host",
        severity: "error",
        index: this.firstInvalid + 1,
        offset: (this.firstInvalid + 1) * RECORD_BYTES,
        count: hidden,
        message: `${hidden} record(s) after the invalid UTF-8 in record ${this.firstInvalid} are invisible to the host (it stops enumerating there)`,
      });
    }
    diagnostics.sort((a, b) => a.offset - b.offset || a.index - b.index);
    let errors = this.omittedErrors;
    let warnings = this.omittedWarnings;
    for (const d of diagnostics) {
      if (d.severity === "error") errors++;
      else if (d.severity === "warning") warnings++;
    }
    const visibleToHost = this.firstInvalid >= 0 ? this.firstInvalid : this.records;
    const report2 = { records: this.records, trailingBytes, diagnostics, visibleToHost, errors, warnings };
    return this.omitted.size === 0 ? report2 : { ...report2, omitted: Object.fromEntries(this.omitted) };
  }
  /** Lists a finding, or only counts it once its code has {@link CheckOptions.maxDiagnosticsPerCode}. */
  push(d) {
    const listed2 = this.listed.get(d.code) ?? 0;
    if (listed2 < this.maxPerCode) {
      this.listed.set(d.code, listed2 + 1);
      this.diagnostics.push(d);
      return;
    }
    this.omitted.set(d.code, (this.omitted.get(d.code) ?? 0) + 1);
    if (d.severity === "error") this.omittedErrors++;
    else if (d.severity === "warning") this.omittedWarnings++;
  }
  checkRecord(record, raw, offset) {
    const { index, key } = record;
    const add = (d) => this.push({ ...d, index, key });
    const hostReads = this.options.hostReads !== false;
    if (!record.keyTerminated) {
      add({
        code: "unterminated-key",
        severity: "error",
        offset,
        message: `key field has no NUL in its ${KEY_FIELD_BYTES} bytes (the kernel reads past it)`,
      });
    }
    if (!record.valueTerminated) {
      add({
        code: "unterminated-value",
        severity: "error",
        offset: offset + VALUE_FIELD_OFFSET,
        message: `value field has no NUL in its ${VALUE_FIELD_BYTES} bytes (the kernel reads past it)`,
      });
    }
    const keyText2 = raw.subarray(0, record.keyBytes);
    const valueText = raw.subarray(VALUE_FIELD_OFFSET, VALUE_FIELD_OFFSET + record.valueBytes);
    const valueValid = record.validUtf8 || findInvalidUtf8(valueText) < 0;
    const keyView = hostView(keyText2, key, record.keyValidUtf8, HOST_MAX_KEY_UNITS);
    const valueView = hostView(valueText, record.value, valueValid, HOST_MAX_VALUE_UNITS);
    if (!record.validUtf8) {
      const failing = !keyView.ok ? "key" : !valueView.ok ? "value" : void 0;
      const field = failing ?? (findInvalidUtf8(keyText2) >= 0 ? "key" : "value");
      const start = field === "key" ? 0 : VALUE_FIELD_OFFSET;
      const at = offset + start + findInvalidUtf8(field === "key" ? keyText2 : valueText);
      const byte = `byte 0x${raw[at - offset].toString(16).padStart(2, "0")}`;
      if (!hostReads || failing) {
        add({
          code: "invalid-utf8",
          severity: "error",
          offset: at,
          message: `${field} is not valid UTF-8 (${byte})${hostReads ? ": the host gets an error here and stops enumerating the pool" : ""}`,
        });
        if (this.firstInvalid < 0) this.firstInvalid = index;
      } else {
        add({
          code: "invalid-utf8",
          severity: "warning",
          offset: at,
          message: `${field} is not valid UTF-8 (${byte}) past the host's cut at ${field === "key" ? HOST_MAX_KEY_UNITS : HOST_MAX_VALUE_UNITS} UTF-16 units: the host never reaches it and sees the text truncated`,
        });
      }
    }
    if (record.keyBytes === 0) {
      add({
        code: "empty-key",
        severity: "warning",
        offset,
        message:
          record.valueBytes === 0
            ? "empty key and empty value (an all-zero record is one): not a deletion, the host sees an item with an empty name"
            : "empty key: the host sees an item with an empty name",
      });
    } else if (record.keyValidUtf8) {
      const earlier = this.exactKeys.get(key);
      const folded = key.toLowerCase();
      const earlierFolded = this.foldedKeys.get(folded);
      if (earlier !== void 0) {
        add({
          code: "duplicate-key",
          severity: "warning",
          offset,
          firstIndex: earlier,
          message: `duplicate key (first at record ${earlier}): lookups see only the first, the host enumerates both`,
        });
      } else if (earlierFolded !== void 0) {
        add({
          code: "duplicate-key-case",
          severity: "warning",
          offset,
          firstIndex: earlierFolded,
          message: `key differs only in case from record ${earlierFolded}: case-insensitive readers see only one of them`,
        });
      }
      if (earlier === void 0) this.exactKeys.set(key, index);
      if (earlierFolded === void 0) this.foldedKeys.set(folded, index);
    }
    if (hostReads && keyView.ok && keyView.truncated) {
      add({
        code: "host-truncated-key",
        severity: "warning",
        offset,
        message: `key is ${utf16Units(key)} UTF-16 units: the host sees only the first ${keyView.text.length}`,
      });
    }
    if (hostReads && valueView.ok && valueView.truncated) {
      add({
        code: "host-truncated-value",
        severity: "warning",
        offset: offset + VALUE_FIELD_OFFSET,
        message: `value is ${utf16Units(record.value)} UTF-16 units: the host sees only the first ${valueView.text.length}`,
      });
    }
    const keyGarbage = garbageAfterNul(raw, 0, KEY_FIELD_BYTES, record.keyBytes);
    const valueGarbage = garbageAfterNul(raw, VALUE_FIELD_OFFSET, VALUE_FIELD_BYTES, record.valueBytes);
    if (keyGarbage + valueGarbage > 0) {
      add({
        code: "garbage-after-nul",
        severity: "info",
        offset,
        count: keyGarbage + valueGarbage,
        message: `${keyGarbage + valueGarbage} non-zero byte(s) after the NULs (key ${keyGarbage}, value ${valueGarbage}): ignored, as the daemon leaves old data there`,
      });
    }
  }
};
var FITS_WHOLE = { ok: true, text: "", truncated: false };
function hostView(bytes, text, valid, maxUnits) {
  return valid && text.length <= maxUnits ? FITS_WHOLE : kernelUtf8ToUtf16(bytes, maxUnits);
}
function garbageAfterNul(raw, start, size, textLength2) {
  let count = 0;
  const end = Math.min(start + size, raw.length);
  for (let i = start + textLength2 + 1; i < end; i++) {
    if (raw[i] !== 0) count++;
  }
  return count;
}

// ../../packages/kvp-core/src/pools.ts
var POOLS = [
  { number: 0, name: "external", kernelName: "KVP_POOL_EXTERNAL", direction: "host \u2192 guest", writer: "daemon" },
  { number: 1, name: "guest", kernelName: "KVP_POOL_GUEST", direction: "guest \u2192 host", writer: "guest" },
  { number: 2, name: "auto", kernelName: "KVP_POOL_AUTO", direction: "guest \u2192 host", writer: "synthesised" },
  {
    number: 3,
    name: "auto-external",
    kernelName: "KVP_POOL_AUTO_EXTERNAL",
    direction: "host \u2192 guest",
    writer: "daemon",
  },
  { number: 4, name: "auto-internal", kernelName: "KVP_POOL_AUTO_INTERNAL", direction: "unused", writer: "daemon" },
];
function poolFileName(pool) {
  return `.kvp_pool_${pool}`;
}
function parsePool(text) {
  const wanted = String(text).trim().toLowerCase();
  const found = POOLS.find(
    (p) => String(p.number) === wanted || p.name === wanted || p.kernelName.toLowerCase() === wanted,
  );
  if (!found) {
    const names = POOLS.map((p) => `${p.number}|${p.name}`).join(", ");
    throw new KvpError("invalid-pool", `invalid pool: ${JSON.stringify(String(text))} (use one of ${names})`);
  }
  return found;
}

// ../../packages/kvp-core/src/chunking.ts
var MAX_CHUNK_PARTS = 999;
var CHUNK_KEY_SEPARATOR = "#";
var MAX_CHUNK_UNITS = HOST_MAX_VALUE_UNITS;
var MAX_CHUNK_BYTES = MAX_VALUE_BYTES;
var CHUNK_KEY = /^(.+)#([1-9][0-9]{0,2})\/([1-9][0-9]{0,2})$/s;
function chunkKey(base, index, total) {
  return `${base}${CHUNK_KEY_SEPARATOR}${index}/${total}`;
}
function parseChunkKey(key) {
  const match = CHUNK_KEY.exec(key);
  if (!match) return void 0;
  const index = Number(match[2]);
  const total = Number(match[3]);
  if (total < 2 || index > total) return void 0;
  return { base: match[1], index, total };
}
function logicalKeyOf(key) {
  return parseChunkKey(key)?.base ?? key;
}
function splitValue(key, value) {
  assertText("key", key);
  if (key === "") throw new KvpError("invalid-key", "invalid key: empty");
  if (parseChunkKey(key) !== void 0) {
    throw new KvpError(
      "invalid-key",
      `invalid key: ${JSON.stringify(shorten(key))} has the form of a part of a chunked value (KEY#i/N); readers would take it for one`,
    );
  }
  assertText("value", value);
  const pieces = cutValue(value, MAX_CHUNK_PARTS + 1);
  if (pieces.length === 1) return [{ key, value }];
  const total = pieces.length;
  if (total > MAX_CHUNK_PARTS) {
    throw new KvpError(
      "limit-exceeded",
      `value too long to chunk: it needs more than ${MAX_CHUNK_PARTS} parts (each part holds ${MAX_CHUNK_UNITS} UTF-16 units or ${MAX_CHUNK_BYTES} bytes)`,
    );
  }
  const longest = chunkKey(key, total, total);
  const units = utf16Units(longest);
  const bytes = encodeUtf8(longest).length;
  if (units > HOST_MAX_KEY_UNITS || bytes > MAX_KEY_BYTES) {
    throw new KvpError(
      "invalid-key",
      `invalid key: too long for a chunked value: its part keys such as ${JSON.stringify(shorten(longest))} would be ${units} UTF-16 units (${bytes} bytes), limit ${HOST_MAX_KEY_UNITS} (${MAX_KEY_BYTES} bytes)`,
    );
  }
  return pieces.map((piece, i) => ({ key: chunkKey(key, i + 1, total), value: piece }));
}
function cutValue(value, maxPieces) {
  const pieces = [];
  let start = 0;
  let units = 0;
  let bytes = 0;
  for (let i = 0; i < value.length; ) {
    const unit = value.charCodeAt(i);
    const width = unit >= 55296 && unit <= 56319 ? 2 : 1;
    const size = width === 2 ? 4 : unit < 128 ? 1 : unit < 2048 ? 2 : 3;
    if (units + width > MAX_CHUNK_UNITS || bytes + size > MAX_CHUNK_BYTES) {
      pieces.push(value.slice(start, i));
      if (pieces.length === maxPieces) return pieces;
      start = i;
      units = 0;
      bytes = 0;
    }
    units += width;
    bytes += size;
    i += width;
  }
  pieces.push(value.slice(start));
  return pieces;
}
function assertText(field, text) {
  const code = field === "key" ? "invalid-key" : "invalid-value";
  if (typeof text !== "string") throw new KvpError(code, `invalid ${field}: not a string`);
  const surrogate = findLoneSurrogate(text);
  if (surrogate >= 0) {
    throw new KvpError(code, `invalid ${field}: lone surrogate at UTF-16 index ${surrogate} has no UTF-8 form`);
  }
  const nul = text.indexOf("\0");
  if (nul >= 0)
    throw new KvpError(code, `invalid ${field}: contains NUL at UTF-16 index ${nul} (a field ends at its first NUL)`);
}
function shorten(text) {
  return text.length > 60 ? `${text.slice(0, 40)}...${text.slice(-17)}` : text;
}
function reassembleRecords(records) {
  const groups = /* @__PURE__ */ new Map();
  const plainKeys = /* @__PURE__ */ new Set();
  records.forEach((record, position) => {
    if (record.keyValidUtf8 === false) return;
    const chunk = parseChunkKey(record.key);
    if (!chunk) {
      plainKeys.add(record.key);
      return;
    }
    let group = groups.get(chunk.base);
    if (!group) {
      group = { byTotal: /* @__PURE__ */ new Map(), positions: [], duplicates: [] };
      groups.set(chunk.base, group);
    }
    group.positions.push(position);
    let parts = group.byTotal.get(chunk.total);
    if (!parts) {
      parts = /* @__PURE__ */ new Map();
      group.byTotal.set(chunk.total, parts);
    }
    if (parts.has(chunk.index)) group.duplicates.push(position);
    else parts.set(chunk.index, position);
  });
  const emitAt = /* @__PURE__ */ new Map();
  const consumed = /* @__PURE__ */ new Set();
  const problems = [];
  const problem = (key, reason, message, positions) => {
    problems.push({
      first: positions[0],
      problem: { key, reason, message, records: positions.map((p) => records[p]) },
    });
  };
  for (const [key, group] of groups) {
    const label = JSON.stringify(shorten(key));
    if (plainKeys.has(key)) {
      problem(
        key,
        "plain-beside-parts",
        `${label} is stored both as a plain record and in parts; lookups of ${label} see the plain record, the parts are shown as stored`,
        group.positions,
      );
      continue;
    }
    if (group.byTotal.size > 1) {
      const totals = [...group.byTotal.keys()].sort((a, b) => a - b).join(", ");
      problem(
        key,
        "conflicting-totals",
        `${label} has parts of different splits (into ${totals} parts); shown as stored`,
        group.positions,
      );
      continue;
    }
    const [total, parts] = [...group.byTotal][0];
    if (parts.size < total) {
      const missing = [];
      for (let i = 1; i <= total && missing.length < 10; i++) if (!parts.has(i)) missing.push(i);
      const more = total - parts.size > missing.length ? ", \u2026" : "";
      problem(
        key,
        "incomplete",
        `${label} is split into ${total} parts but part(s) ${missing.join(", ")}${more} are missing; shown as stored`,
        group.positions,
      );
      continue;
    }
    const ordered = [];
    for (let i = 1; i <= total; i++) ordered.push(parts.get(i));
    const broken = ordered.filter((p) => records[p].validUtf8 === false);
    if (broken.length > 0) {
      const names = broken.map((p) => JSON.stringify(shorten(records[p].key))).join(", ");
      problem(
        key,
        "invalid-utf8",
        `${names} of ${label} not valid UTF-8 (the host stops enumerating there); shown as stored`,
        broken,
      );
      continue;
    }
    const used = new Set(ordered);
    const first = group.positions.find((p) => used.has(p));
    for (const p of ordered) consumed.add(p);
    emitAt.set(first, {
      key,
      value: ordered.map((p) => records[p].value).join(""),
      parts: ordered.map((p) => records[p]),
    });
    if (group.duplicates.length > 0) {
      const names = [...new Set(group.duplicates.map((p) => JSON.stringify(shorten(records[p].key))))].join(", ");
      problem(
        key,
        "duplicate-part",
        `${names} stored more than once; the first copy was used, later copies are shown as stored`,
        group.duplicates,
      );
    }
  }
  const out = [];
  records.forEach((record, position) => {
    const reassembled = emitAt.get(position);
    if (reassembled) out.push(reassembled);
    else if (!consumed.has(position)) out.push({ key: record.key, value: record.value, record });
  });
  problems.sort((a, b) => a.first - b.first);
  return { records: out, problems: problems.map((p) => p.problem) };
}

// ../../packages/pool-file/src/errors.ts
var PoolFileError = class extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
  }
  code;
  name = "PoolFileError";
};
function isPoolFileError(error, code) {
  return error instanceof PoolFileError && (code === void 0 || error.code === code);
}
function errnoCode(error) {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : void 0;
}

// ../../packages/pool-file/src/pool-dir.ts
var import_node_path = require("node:path");
var DEFAULT_POOL_DIR = "/var/lib/hyperv";
var POOL_DIR_ENV = "KVP_POOL_DIR";
function resolvePoolDir(dir, env = process.env) {
  if (dir !== void 0 && dir !== "") return dir;
  const fromEnv = env[POOL_DIR_ENV];
  return fromEnv !== void 0 && fromEnv !== "" ? fromEnv : DEFAULT_POOL_DIR;
}
function poolPath(dir, pool) {
  return (0, import_node_path.join)(dir, poolFileName(pool));
}

// ../../packages/pool-file/src/pool-target.ts
function poolTarget(pool, dir) {
  let info;
  try {
    info = typeof pool === "object" ? pool : parsePool(pool);
  } catch (error) {
    if (isKvpError(error)) throw new PoolFileError("invalid", error.message, { cause: error });
    throw error;
  }
  const resolved = resolvePoolDir(dir);
  return { pool: info, dir: resolved, path: poolPath(resolved, info.number) };
}
function describePool(target) {
  return `pool ${target.pool.number} (${target.pool.name}) ${target.path}`;
}
function writeRefusal(target) {
  switch (target.pool.number) {
    case 1:
      return void 0;
    case 0:
    case 3:
      return `${describePool(target)} is written by hv_kvp_daemon with what the host sends; the host never reads it back and the daemon rewrites it at the host's next change`;
    case 2:
      return `${describePool(target)} is never read: hv_kvp_daemon synthesises pool 2 for the host from the system itself`;
    default:
      return `${describePool(target)} is unused: nothing reads it`;
  }
}

// ../../packages/pool-file/src/pool-io.ts
var import_node_fs4 = require("node:fs");

// ../../packages/pool-file/src/lock.ts
var import_node_fs3 = require("node:fs");

// ../../packages/pool-file/src/libc.ts
var import_node_fs2 = require("node:fs");
var import_node_module = require("node:module");
var import_node_os = require("node:os");
var import_node_path2 = require("node:path");
var F_OFD_GETLK = 36;
var F_OFD_SETLK = 37;
var F_RDLCK = 0;
var F_WRLCK = 1;
var F_UNLCK = 2;
var SEEK_SET = 0;
var LOCK_SH = 1;
var LOCK_EX = 2;
var LOCK_NB = 4;
var LOCK_UN = 8;
var EAGAIN = import_node_os.constants.errno.EAGAIN;
var EACCES = import_node_os.constants.errno.EACCES;
var EINTR = import_node_os.constants.errno.EINTR;
var AF_INET = 2;
var AF_INET6 = 10;
var IFF_LOOPBACK = 8;
var AI_CANONNAME = 2;
var SOCK_STREAM = 1;
var FLOCK_STRUCT_BYTES = 32;
var loaded;
function libc() {
  loaded ??= loadLibc();
  return loaded;
}
function errnoName(errno) {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}
var ERRNO_NAMES = (() => {
  const names = /* @__PURE__ */ new Map();
  for (const [name, value] of Object.entries(import_node_os.constants.errno))
    if (!names.has(value)) names.set(value, name);
  return names;
})();
var koffiLoad;
var GLIBC_LOADER = {
  x64: "/lib64/ld-linux-x86-64.so.2",
  arm64: "/lib/ld-linux-aarch64.so.1",
};
function requireKoffi(req) {
  try {
    const loader = GLIBC_LOADER[process.arch];
    if (loader !== void 0 && (0, import_node_fs2.existsSync)(loader)) {
      const koffiMain = req.resolve("koffi");
      const version = JSON.parse(
        (0, import_node_fs2.readFileSync)(
          (0, import_node_path2.join)((0, import_node_path2.dirname)(koffiMain), "package.json"),
          "utf8",
        ),
      ).version;
      const platformMain = (0, import_node_module.createRequire)(koffiMain).resolve(
        `@koromix/koffi-linux-${process.arch}`,
      );
      const native = (0, import_node_module.createRequire)(platformMain)(`./linux_${process.arch}/koffi.node`);
      if (native.version === version && typeof native.load === "function" && typeof native.struct === "function") {
        koffiLoad = "direct";
        return native;
      }
    }
  } catch {}
  koffiLoad = "koffi";
  return req("koffi");
}
function loadLibc() {
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) {
    throw new PoolFileError(
      "io",
      `file locks and interface queries need Linux on x86_64 or arm64 (this is ${process.platform}/${process.arch})`,
    );
  }
  let koffi;
  let lib;
  try {
    koffi = requireKoffi((0, import_node_module.createRequire)(__kvpBundleUrl));
    lib = koffi.load(null);
  } catch (error) {
    throw new PoolFileError("io", `cannot load the C library through koffi: ${error.message}`, {
      cause: error,
    });
  }
  const flockType = koffi.struct({
    l_type: "int16",
    l_whence: "int16",
    l_start: "int64",
    l_len: "int64",
    l_pid: "int32",
  });
  if (koffi.sizeof(flockType) !== FLOCK_STRUCT_BYTES || koffi.offsetof(flockType, "l_pid") !== 24) {
    throw new PoolFileError("io", `unexpected struct flock layout (${koffi.sizeof(flockType)} bytes)`);
  }
  const ifaddrsType = koffi.struct({
    ifa_next: "void *",
    ifa_name: "const char *",
    ifa_flags: "uint",
    ifa_addr: "void *",
    ifa_netmask: "void *",
    ifa_ifu: "void *",
    ifa_data: "void *",
  });
  const addrinfoType = koffi.struct({
    ai_flags: "int",
    ai_family: "int",
    ai_socktype: "int",
    ai_protocol: "int",
    ai_addrlen: "uint32",
    ai_addr: "void *",
    ai_canonname: "const char *",
    ai_next: "void *",
  });
  const flockInOut = koffi.inout(koffi.pointer(flockType));
  const voidPtrOut = koffi.out(koffi.pointer("void *"));
  const fcntl = lib.func("fcntl", "int", ["int", "int", "..."]);
  const flock = lib.func("int flock(int fd, int operation)");
  const getifaddrs = lib.func("getifaddrs", "int", [voidPtrOut]);
  const freeifaddrs = lib.func("void freeifaddrs(void *ifa)");
  const inetNtop = lib.func("const char *inet_ntop(int af, const void *src, _Out_ uint8_t *dst, uint32_t size)");
  const gethostname = lib.func("int gethostname(_Out_ uint8_t *name, size_t len)");
  const getaddrinfo = lib.func("getaddrinfo", "int", [
    "const char *",
    "const char *",
    koffi.pointer(addrinfoType),
    voidPtrOut,
  ]);
  const freeaddrinfo = lib.func("void freeaddrinfo(void *res)");
  const gaiStrerror = lib.func("const char *gai_strerror(int errcode)");
  const addressBytes = (sockaddr, family) => {
    const [offset, length] = family === AF_INET ? [4, 4] : family === AF_INET6 ? [8, 16] : [0, 0];
    if (length === 0) return void 0;
    return Uint8Array.from(koffi.decode(sockaddr, offset, koffi.array("uint8", length, "Array")));
  };
  return {
    fcntlLock(fd, cmd, lock) {
      const inout = [{ ...lock }];
      const rc = fcntl(fd, cmd, flockInOut, inout);
      const errno = rc === -1 ? koffi.errno() : 0;
      return { errno, lock: inout[0] ?? lock };
    },
    flock(fd, operation) {
      return flock(fd, operation) === -1 ? koffi.errno() : 0;
    },
    getifaddrs() {
      const head = [null];
      if (getifaddrs(head) === -1) return { ok: false, errno: koffi.errno() };
      const entries = [];
      try {
        for (let p = head[0]; p !== null && p !== void 0; ) {
          const entry = koffi.decode(p, ifaddrsType);
          const family =
            entry.ifa_addr === null || entry.ifa_addr === void 0 ? void 0 : koffi.decode(entry.ifa_addr, "uint16");
          entries.push({
            name: entry.ifa_name ?? "",
            flags: entry.ifa_flags,
            family,
            address: family === void 0 ? void 0 : addressBytes(entry.ifa_addr, family),
          });
          p = entry.ifa_next;
        }
      } finally {
        freeifaddrs(head[0]);
      }
      return { ok: true, entries };
    },
    inetNtop(family, address) {
      const buffer = new Uint8Array(50);
      return inetNtop(family, address, buffer, buffer.length);
    },
    gethostname(length) {
      const buffer = new Uint8Array(length);
      if (gethostname(buffer, length) === -1) return void 0;
      const end = buffer.indexOf(0);
      return new TextDecoder().decode(end === -1 ? buffer : buffer.subarray(0, end));
    },
    getCanonicalName(node, hints) {
      const result = [null];
      const error = getaddrinfo(
        node,
        null,
        {
          ai_flags: hints.flags,
          ai_family: hints.family,
          ai_socktype: hints.socktype,
          ai_protocol: 0,
          ai_addrlen: 0,
          ai_addr: null,
          ai_canonname: null,
          ai_next: null,
        },
        result,
      );
      if (error !== 0) return { ok: false, error, message: gaiStrerror(error) ?? "" };
      try {
        const first = koffi.decode(result[0], addrinfoType);
        return { ok: true, canonicalName: first.ai_canonname };
      } finally {
        freeaddrinfo(result[0]);
      }
    },
  };
}

// ../../packages/pool-file/src/lock.ts
var DEFAULT_TIMEOUT_MS = 5e3;
var FIRST_DELAY_MS = 1;
var MAX_DELAY_MS = 25;
function monotonicMs() {
  return process.uptime() * 1e3;
}
async function lockFile(fd, mode, options = {}) {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new PoolFileError("invalid", `invalid lock timeout: ${timeoutMs} (want milliseconds >= 0)`);
  }
  options.signal?.throwIfAborted();
  const deadline = monotonicMs() + timeoutMs;
  const flock = { settled: mode === "read", held: false };
  let delay = FIRST_DELAY_MS;
  try {
    for (;;) {
      if (mode === "write" && !flock.held) settleFlock(fd, flock, options.describe);
      if (flock.settled && tryFcntl(fd, mode, options.describe))
        return heldLock(fd, mode, flock.held, options.describe);
      const remaining = deadline - monotonicMs();
      if (remaining <= 0) throw lockedError(fd, mode, flock.settled ? "fcntl" : "flock", timeoutMs, options.describe);
      await pause(Math.min(delay, Math.ceil(remaining)), options.signal);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  } catch (error) {
    if (flock.held) libc().flock(fd, LOCK_UN);
    throw error;
  }
}
function settleFlock(fd, state, describe) {
  if (tryFlock(fd, "write", describe)) {
    state.held = true;
    state.settled = true;
  } else if (!state.settled && flockHeldOnlyByReaders(fd)) {
    state.settled = true;
  }
}
function heldLock(fd, mode, haveFlock, describe) {
  let released = false;
  return {
    mode,
    release() {
      if (released) return;
      released = true;
      const c = libc();
      const fcntlErrno = c.fcntlLock(fd, F_OFD_SETLK, wholeFile(F_UNLCK)).errno;
      const flockErrno = haveFlock ? c.flock(fd, LOCK_UN) : 0;
      const errno = fcntlErrno || flockErrno;
      if (errno !== 0) {
        throw new PoolFileError("io", `cannot unlock ${describeFd(fd, describe)}: ${errnoName(errno)}`);
      }
    },
  };
}
function tryFlock(fd, mode, describe) {
  const operation = (mode === "write" ? LOCK_EX : LOCK_SH) | LOCK_NB;
  for (;;) {
    const errno = libc().flock(fd, operation);
    if (errno === 0) return true;
    if (errno === EAGAIN) return false;
    if (errno !== EINTR) throw lockIoError(fd, mode, "flock", errno, describe);
  }
}
function tryFcntl(fd, mode, describe) {
  for (;;) {
    const { errno } = libc().fcntlLock(fd, F_OFD_SETLK, wholeFile(mode === "write" ? F_WRLCK : F_RDLCK));
    if (errno === 0) return true;
    if (errno === EAGAIN || errno === EACCES) return false;
    if (errno !== EINTR) throw lockIoError(fd, mode, "fcntl", errno, describe);
  }
}
function wholeFile(type2) {
  return { l_type: type2, l_whence: SEEK_SET, l_start: 0, l_len: 0, l_pid: 0 };
}
function lockIoError(fd, mode, family, errno, describe) {
  const name = errnoName(errno);
  const hint = name === "EBADF" ? ` (is the file open for ${mode === "write" ? "writing" : "reading"}?)` : "";
  return new PoolFileError("io", `cannot ${family}-lock ${describeFd(fd, describe)} for ${mode}: ${name}${hint}`);
}
function lockedError(fd, mode, waitingFor, timeoutMs, describe) {
  let holder;
  try {
    holder = waitingFor === "fcntl" ? findFcntlHolder(fd, mode) : findFlockHolder(fd, mode);
  } catch {}
  const kind = { posix: "POSIX fcntl lock", ofd: "OFD fcntl lock", flock: "flock" };
  const owner = holder?.pid === void 0 ? void 0 : processOwner(holder.pid);
  const who =
    holder === void 0
      ? "the holder could not be identified"
      : holder.pid === void 0
        ? `held with a ${kind[holder.kind]} by a process that could not be identified`
        : `held by pid ${holder.pid}${holder.command === void 0 ? "" : ` (${holder.command})`} with a ${kind[holder.kind]}${owner === void 0 ? "" : `, as user ${owner.name}`}`;
  const note =
    mode === "write" &&
    waitingFor === "fcntl" &&
    owner !== void 0 &&
    owner.uid !== 0 &&
    owner.uid !== process.geteuid?.()
      ? `; a read lock, which any user who can read the file may take, keeps every writer out, hv_kvp_daemon included`
      : "";
  return new PoolFileError(
    "locked",
    `${describeFd(fd, describe)} is locked: no ${mode} lock within ${timeoutMs} ms; ${who}${note}`,
  );
}
function processOwner(pid) {
  let uid;
  try {
    const match = /^Uid:\s+\d+\s+(\d+)/m.exec((0, import_node_fs3.readFileSync)(`/proc/${pid}/status`, "utf8"));
    if (!match) return void 0;
    uid = Number(match[1]);
  } catch {
    return void 0;
  }
  let name = String(uid);
  try {
    for (const line of (0, import_node_fs3.readFileSync)("/etc/passwd", "utf8").split("\n")) {
      const [user, , id] = line.split(":");
      if (id === String(uid) && user) {
        name = user;
        break;
      }
    }
  } catch {}
  return { uid, name };
}
function describeFd(fd, describe) {
  if (describe !== void 0) return describe;
  try {
    return (0, import_node_fs3.readlinkSync)(`/proc/self/fd/${fd}`);
  } catch {
    return `file descriptor ${fd}`;
  }
}
function findFcntlHolder(fd, mode) {
  const { errno, lock } = libc().fcntlLock(fd, F_OFD_GETLK, wholeFile(mode === "write" ? F_WRLCK : F_RDLCK));
  if (errno !== 0)
    throw new PoolFileError("io", `cannot test the lock on ${describeFd(fd, void 0)}: ${errnoName(errno)}`);
  if (lock.l_type === F_UNLCK) return void 0;
  if (lock.l_pid > 0) return withCommand("posix", lock.l_pid);
  if (lock.l_pid === 0) return { kind: "posix" };
  const file = fileId(fd);
  const conflicting = (l) => l.family === "OFDLCK" && conflicts(l, mode) && sameFile(l, file);
  const listed2 = readProcLocks().find((l) => conflicting(l) && l.pid > 0);
  if (listed2) return withCommand("ofd", listed2.pid);
  const pid = findDescriptorHolder(file, fd, conflicting);
  return pid === void 0 ? { kind: "ofd" } : withCommand("ofd", pid);
}
function findFlockHolder(fd, mode) {
  const file = fileId(fd);
  const conflicting = (l) => l.family === "FLOCK" && conflicts(l, mode) && sameFile(l, file);
  const candidates = readProcLocks().filter(conflicting);
  const own = readFdLocks(process.pid, fd).find((l) => l.family === "FLOCK");
  if (own) {
    const index = candidates.findIndex((l) => l.pid === own.pid && l.type === own.type);
    if (index !== -1) candidates.splice(index, 1);
  }
  const first = candidates.find((l) => l.pid !== process.pid) ?? candidates[0];
  if (first === void 0) return void 0;
  return first.pid > 0 ? withCommand("flock", first.pid) : { kind: "flock" };
}
var O_ACCMODE = 3;
function flockHeldOnlyByReaders(fd) {
  let file;
  try {
    file = fileId(fd);
  } catch {
    return false;
  }
  const listed2 = readProcLocks().filter((l) => l.family === "FLOCK" && sameFile(l, file));
  if (listed2.length === 0 || listed2.some((l) => l.pid <= 0)) return false;
  const pids = [...new Set(listed2.map((l) => l.pid))];
  if (pids.some((pid) => !mayInspect(pid))) return false;
  let holders = flockDescriptors(file, fd, pids);
  if (!pids.every((pid) => holders.some((h) => h.pid === pid))) {
    if (process.geteuid?.() !== 0) return false;
    holders = flockDescriptors(file, fd, void 0);
  }
  return holders.length > 0 && holders.every((h) => !h.writable);
}
function mayInspect(pid) {
  try {
    (0, import_node_fs3.readdirSync)(`/proc/${pid}/fd`);
    return true;
  } catch (error) {
    return errnoCode(error) === "ENOENT";
  }
}
function flockDescriptors(file, ownFd, pids) {
  const found = [];
  forEachDescriptorOf(file, ownFd, pids, (pid, fd) => {
    let text;
    try {
      text = (0, import_node_fs3.readFileSync)(`/proc/${pid}/fdinfo/${fd}`, "utf8");
    } catch {
      return false;
    }
    if (!parseProcLocks(text).some((l) => l.family === "FLOCK" && !l.waiting)) return false;
    const flags = /^flags:\s*([0-7]+)/m.exec(text);
    found.push({ pid, writable: flags === null || (Number.parseInt(flags[1], 8) & O_ACCMODE) !== 0 });
    return false;
  });
  return found;
}
function withCommand(kind, pid) {
  try {
    const command = (0, import_node_fs3.readFileSync)(`/proc/${pid}/comm`, "utf8").replace(/\n$/, "");
    return { kind, pid, command };
  } catch {
    return { kind, pid };
  }
}
function conflicts(lock, mode) {
  return mode === "write" ? lock.type === "READ" || lock.type === "WRITE" : lock.type === "WRITE";
}
function fileId(fd) {
  let dev;
  let inode;
  try {
    ({ dev, ino: inode } = (0, import_node_fs3.fstatSync)(fd, { bigint: true }));
  } catch (error) {
    throw new PoolFileError("io", `cannot examine file descriptor ${fd}: ${error.message}`, {
      cause: error,
    });
  }
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor, inode, dev };
}
function sameFile(lock, file) {
  return lock.major === file.major && lock.minor === file.minor && lock.inode === file.inode;
}
var PROC_LOCK_LINE = /^(?:lock:\s*)?\d+:\s+(->\s+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/;
function parseProcLocks(text) {
  const locks = [];
  for (const line of text.split("\n")) {
    const m = PROC_LOCK_LINE.exec(line);
    if (!m) continue;
    locks.push({
      waiting: m[1] !== void 0,
      family: m[2],
      type: m[3],
      pid: Number(m[4]),
      major: Number.parseInt(m[5], 16),
      minor: Number.parseInt(m[6], 16),
      inode: BigInt(m[7]),
    });
  }
  return locks;
}
function readProcLocks() {
  try {
    return parseProcLocks((0, import_node_fs3.readFileSync)("/proc/locks", "utf8")).filter((l) => !l.waiting);
  } catch {
    return [];
  }
}
function readFdLocks(pid, fd) {
  try {
    return parseProcLocks((0, import_node_fs3.readFileSync)(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
  } catch {
    return [];
  }
}
function findDescriptorHolder(file, ownFd, wanted) {
  let holder;
  forEachDescriptorOf(file, ownFd, void 0, (pid, fd) => {
    if (!readFdLocks(pid, fd).some(wanted)) return false;
    holder = pid;
    return true;
  });
  return holder;
}
function forEachDescriptorOf(file, ownFd, pids, visit) {
  let candidates;
  try {
    candidates =
      pids ??
      (0, import_node_fs3.readdirSync)("/proc")
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
  } catch {
    return;
  }
  for (const pid of candidates) {
    let fds;
    try {
      fds = (0, import_node_fs3.readdirSync)(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      if (pid === process.pid && fd === String(ownFd)) continue;
      let stat;
      try {
        stat = (0, import_node_fs3.statSync)(`/proc/${pid}/fd/${fd}`, { bigint: true, throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (stat === void 0 || stat.ino !== file.inode || stat.dev !== file.dev) continue;
      if (visit(pid, fd)) return;
    }
  }
}
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// ../../packages/pool-file/src/pool-io.ts
var DEFAULT_LOCK_TIMEOUT_MS = 5e3;
var SCAN_CHUNK_RECORDS = 256;
async function withLockedPool(target, mode, options, fn) {
  const fd = openPool(target, mode, options.create === true);
  try {
    const lock = await lockFile(fd, mode, {
      timeoutMs: options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      describe: describePool(target),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      const size = (0, import_node_fs4.fstatSync)(fd).size;
      return await fn({ target, fd, size });
    } finally {
      lock.release();
    }
  } finally {
    (0, import_node_fs4.closeSync)(fd);
  }
}
function openPool(target, mode, create) {
  checkPoolDir(target);
  const flags =
    (mode === "read" ? import_node_fs4.constants.O_RDONLY : import_node_fs4.constants.O_RDWR) |
    import_node_fs4.constants.O_NOFOLLOW |
    import_node_fs4.constants.O_NONBLOCK;
  let fd;
  try {
    fd = (0, import_node_fs4.openSync)(target.path, flags);
  } catch (error) {
    if (!(create && mode === "write" && errnoCode(error) === "ENOENT")) throw openError(target, error);
  }
  if (fd === void 0) fd = createPool(target, flags);
  let kind;
  try {
    kind = fileKind(fd);
  } catch (error) {
    (0, import_node_fs4.closeSync)(fd);
    throw new PoolFileError("io", `cannot examine ${describePool(target)}: ${errnoCode(error) ?? String(error)}`, {
      cause: error,
    });
  }
  if (kind !== "file") {
    (0, import_node_fs4.closeSync)(fd);
    throw new PoolFileError("io", `cannot open ${describePool(target)}: not a regular file (${kind})`);
  }
  return fd;
}
function createPool(target, flags) {
  try {
    return (0, import_node_fs4.openSync)(
      target.path,
      flags | import_node_fs4.constants.O_CREAT | import_node_fs4.constants.O_EXCL,
      420,
    );
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw openError(target, error);
  }
  try {
    return (0, import_node_fs4.openSync)(target.path, flags);
  } catch (error) {
    throw openError(target, error);
  }
}
function checkPoolDir(target) {
  if (process.geteuid?.() !== 0) return;
  let stat;
  try {
    stat = (0, import_node_fs4.statSync)(target.dir, { throwIfNoEntry: false });
  } catch {
    return;
  }
  if (stat === void 0 || !stat.isDirectory()) return;
  const problem =
    stat.uid !== 0
      ? `is owned by uid ${stat.uid}, not root`
      : (stat.mode & 18) !== 0
        ? `is writable by ${(stat.mode & 16) !== 0 ? "its group" : "others"} (mode ${(stat.mode & 4095).toString(8).padStart(4, "0")})`
        : void 0;
  if (problem === void 0) return;
  throw new PoolFileError(
    "unsafe",
    `refusing ${describePool(target)}: its directory ${target.dir} ${problem}, so another user could replace the pool file; as root, pools are used only in a directory only root can change`,
  );
}
function fileKind(fd) {
  const stat = (0, import_node_fs4.fstatSync)(fd);
  if (stat.isFile()) return "file";
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a file";
}
function openError(target, error) {
  const code = errnoCode(error);
  if (code === "ELOOP" && isSymlink(target.path)) {
    return new PoolFileError(
      "unsafe",
      `${describePool(target)} is a symbolic link: refusing to open a pool file through one (the daemon creates them as regular files)`,
      { cause: error },
    );
  }
  if (code === "ENOENT") {
    const what = dirExists(target.dir) ? `${target.path} does not exist` : `${target.dir} does not exist`;
    return new PoolFileError(
      "daemon-absent",
      `${what}: hv_kvp_daemon seems absent (not a Hyper-V guest, or hyperv-daemons/hypervkvpd not installed or not running)`,
      { cause: error },
    );
  }
  if (code === "EACCES" || code === "EPERM") {
    return new PoolFileError(
      "io",
      `cannot open ${describePool(target)}: permission denied (writing pools needs root)`,
      {
        cause: error,
      },
    );
  }
  return new PoolFileError("io", `cannot open ${describePool(target)}: ${code ?? String(error)}`, { cause: error });
}
function isSymlink(path) {
  try {
    return (0, import_node_fs4.lstatSync)(path).isSymbolicLink();
  } catch {
    return false;
  }
}
function dirExists(dir) {
  return (0, import_node_fs4.statSync)(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}
function readAt(pool, position, length) {
  return readInto(pool, position, new Uint8Array(length));
}
function readInto(pool, position, out) {
  const length = out.length;
  let done = 0;
  while (done < length) {
    const n = io(pool, "read", () => (0, import_node_fs4.readSync)(pool.fd, out, done, length - done, position + done));
    if (n === 0) break;
    done += n;
  }
  return done === length ? out : out.subarray(0, done);
}
function scanChunks(pool, visit, fromIndex = 0) {
  const total = Math.floor(pool.size / RECORD_BYTES);
  if (fromIndex >= total) return;
  const shared = !scanBusy;
  if (shared) scanBuffer ??= new Uint8Array(SCAN_CHUNK_RECORDS * RECORD_BYTES);
  const buffer =
    shared && scanBuffer !== void 0
      ? scanBuffer
      : new Uint8Array(Math.min(SCAN_CHUNK_RECORDS, total - fromIndex) * RECORD_BYTES);
  if (shared) scanBusy = true;
  try {
    for (let index = fromIndex; index < total; index += SCAN_CHUNK_RECORDS) {
      const count = Math.min(SCAN_CHUNK_RECORDS, total - index);
      const bytes = readInto(pool, index * RECORD_BYTES, buffer.subarray(0, count * RECORD_BYTES));
      if (visit(bytes.subarray(0, Math.floor(bytes.length / RECORD_BYTES) * RECORD_BYTES), index) === false) return;
    }
  } finally {
    if (shared) scanBusy = false;
  }
}
var scanBuffer;
var scanBusy = false;
function applyWrites(pool, writes) {
  for (const w of writes) {
    let done = 0;
    while (done < w.bytes.length) {
      done += io(pool, "write", () =>
        (0, import_node_fs4.writeSync)(pool.fd, w.bytes, done, w.bytes.length - done, w.offset + done),
      );
    }
  }
}
function truncateTo(pool, size) {
  io(pool, "truncate", () => (0, import_node_fs4.ftruncateSync)(pool.fd, size));
}
function io(pool, what, fn) {
  try {
    return fn();
  } catch (error) {
    throw new PoolFileError("io", `cannot ${what} ${describePool(pool.target)}: ${errnoCode(error) ?? String(error)}`, {
      cause: error,
    });
  }
}

// ../../packages/pool-file/src/record-write-plan.ts
var PAGE_BYTES = 4096;
function planRecordWrite(offset, before, after, pageBytes = PAGE_BYTES) {
  if (equalBytes(before, after)) return [];
  const split = pageBytes - (offset % pageBytes);
  if (split >= RECORD_BYTES) return [{ offset, bytes: after }];
  const headChanged = !equalBytes(before.subarray(0, split), after.subarray(0, split));
  const tailChanged = !equalBytes(before.subarray(split), after.subarray(split));
  const head = { offset, bytes: after.subarray(0, split) };
  const tail = { offset: offset + split, bytes: after.subarray(split) };
  if (!headChanged) return [tail];
  if (!tailChanged) return [head];
  if (readsTheSame(concat(before.subarray(0, split), after.subarray(split)), before)) return [tail, head];
  if (readsTheSame(concat(after.subarray(0, split), before.subarray(split)), after)) return [head, tail];
  if (split <= KEY_FIELD_BYTES) {
    return [tail, head];
  }
  const valueInHead = split - VALUE_FIELD_OFFSET;
  const newValue = after.subarray(VALUE_FIELD_OFFSET);
  const cut = utf8BoundaryAtOrBefore(newValue.subarray(0, textLength(newValue)), valueInHead - 1);
  const provisional = after.slice(0, split);
  provisional[VALUE_FIELD_OFFSET + cut] = 0;
  return [{ offset, bytes: provisional }, tail, head];
}
function planShiftWrite(offset, before, after, pageBytes = PAGE_BYTES) {
  const writes = planRecordWrite(offset, before, after, pageBytes);
  if (writes.length <= 1) return writes;
  const oldKey = fieldText(before, 0, KEY_FIELD_BYTES);
  if (oldKey === void 0 || oldKey.length === 0 || equalBytes(oldKey, fieldText(after, 0, KEY_FIELD_BYTES))) {
    return writes;
  }
  const state = before.slice();
  for (const write of writes.slice(0, -1)) {
    state.set(write.bytes, write.offset - offset);
    if (equalBytes(fieldText(state, 0, KEY_FIELD_BYTES), oldKey) && !readsTheSame(state, before)) {
      const emptied = before.slice();
      emptied[0] = 0;
      return [{ offset, bytes: emptied.subarray(0, 1) }, ...planRecordWrite(offset, emptied, after, pageBytes)];
    }
  }
  return writes;
}
function readsTheSame(a, b) {
  return (
    equalBytes(fieldText(a, 0, KEY_FIELD_BYTES), fieldText(b, 0, KEY_FIELD_BYTES)) &&
    equalBytes(fieldText(a, VALUE_FIELD_OFFSET, RECORD_BYTES), fieldText(b, VALUE_FIELD_OFFSET, RECORD_BYTES))
  );
}
function fieldText(record, start, end) {
  const field = record.subarray(start, end);
  const nul = field.indexOf(0);
  return nul < 0 ? void 0 : field.subarray(0, nul);
}
function textLength(field) {
  const nul = field.indexOf(0);
  return nul < 0 ? field.length : nul;
}
function equalBytes(a, b) {
  if (a === void 0 || b === void 0) return false;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ../../packages/pool-file/src/pool-store.ts
function readPool(target, options = {}) {
  return withLockedPool(target, "read", options, (pool) => {
    const records = [];
    scanChunks(pool, (bytes, first) => {
      records.push(...decodePool(bytes, first).records);
      return true;
    });
    return { target, records, trailingBytes: pool.size % RECORD_BYTES };
  });
}
function forEachRecord(target, visit, options = {}) {
  return withLockedPool(target, "read", options, (pool) => {
    scanChunks(pool, (bytes, first) => {
      for (const record of decodePool(bytes, first).records) visit(record);
      return true;
    });
    return pool.size % RECORD_BYTES;
  });
}
function scanPool(target, visit, options = {}) {
  return withLockedPool(target, "read", options, (pool) => {
    const records = Math.floor(pool.size / RECORD_BYTES);
    scanChunks(pool, (bytes, first) => visit(bytes, first, records) !== false);
    return { records, trailingBytes: pool.size % RECORD_BYTES };
  });
}
function getRecord(target, key, options = {}) {
  const matches = keyMatcher(key, options);
  return withLockedPool(target, "read", options, (pool) => {
    let found;
    scanChunks(pool, (bytes, first) => {
      found = decodePool(bytes, first).records.find(matches);
      return found === void 0;
    });
    return found;
  });
}
function checkPoolFile(target, options = {}) {
  return withLockedPool(target, "read", options, (pool) => {
    const checker = new PoolChecker({ hostReads: target.pool.number === 1 });
    scanChunks(pool, (bytes, first) => {
      checker.addChunk(bytes, first);
      return true;
    });
    return checker.finish(pool.size % RECORD_BYTES);
  });
}
async function setRecords(target, records, options = {}) {
  assertWritable(target, options);
  const limits = options.limits ?? (target.pool.number === 1 ? "host" : "wire");
  const encoded = records.map((record) => encodeOrExplain(record, limits));
  return withLockedPool(target, "write", options, (pool) => {
    const wholeSize = dropFragment(pool);
    const firstIndexOf = indexKeys(pool, records, options);
    const count = wholeSize / RECORD_BYTES;
    const outcomes = [];
    const appended = [];
    records.forEach((record, i) => {
      const bytes = encoded[i];
      const foldedKey = options.ignoreCase ? record.key.toLowerCase() : record.key;
      const index = firstIndexOf.get(foldedKey);
      if (index === void 0) {
        firstIndexOf.set(foldedKey, count + appended.length);
        outcomes.push({ key: record.key, action: "appended", index: count + appended.length });
        appended.push(bytes);
        return;
      }
      if (index >= count) {
        appended[index - count] = bytes;
        outcomes.push({ key: record.key, action: "appended", index });
        return;
      }
      const offset = index * RECORD_BYTES;
      const before = readAt(pool, offset, RECORD_BYTES);
      const previous = decodeRecord(before, 0, index);
      const after = encodeRecord({ key: previous.key, value: record.value }, { limits: "wire" });
      const writes = planRecordWrite(offset, before, after);
      applyWrites(pool, writes);
      outcomes.push({
        key: previous.key,
        action: previous.value === record.value && writes.length === 0 ? "unchanged" : "modified",
        index,
        previous: previous.value,
      });
    });
    if (appended.length > 0) {
      const block = new Uint8Array(appended.length * RECORD_BYTES);
      for (const [i, bytes] of appended.entries()) block.set(bytes, i * RECORD_BYTES);
      applyWrites(pool, [{ offset: wholeSize, bytes: block }]);
    }
    return outcomes;
  });
}
async function deleteRecord(target, key, options = {}) {
  assertWritable(target, options);
  const matches = keyMatcher(key, options);
  return withLockedPool(target, "write", options, (pool) => {
    let removed = 0;
    return removeRecords(pool, (record) => {
      const remove = matches(record) && (options.all === true || removed === 0);
      if (remove) removed++;
      return remove;
    });
  });
}
function removeRecords(pool, shouldRemove, mayRemove) {
  const removed = [];
  const pending = [];
  const run = new ShiftRun(pool);
  let writeIndex = -1;
  scanChunks(pool, (bytes, first) => {
    for (let i = 0; i < bytes.length / RECORD_BYTES; i++) {
      const raw = bytes.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
      const record = mayRemove === void 0 || mayRemove(raw, 0) ? decodeRecord(raw, 0, first + i) : void 0;
      const remove = record !== void 0 && shouldRemove(record);
      if (writeIndex < 0) {
        if (!remove) continue;
        writeIndex = first + i;
      }
      pending.push(raw);
      if (remove) {
        removed.push({ ...record, offset: (first + i) * RECORD_BYTES });
        continue;
      }
      const offset = writeIndex * RECORD_BYTES;
      const writes = planShiftWrite(offset, pending.shift(), raw);
      if (ascending(writes)) run.add(offset, raw);
      else {
        run.flush();
        applyWrites(pool, writes);
      }
      writeIndex++;
    }
    for (let p = 0; p < pending.length; p++) pending[p] = pending[p].slice();
    return true;
  });
  run.flush();
  if (removed.length > 0) truncateTo(pool, writeIndex * RECORD_BYTES);
  return removed;
}
var SHIFT_RUN_BYTES = 256 * RECORD_BYTES;
function ascending(writes) {
  for (let i = 1; i < writes.length; i++) {
    const last = writes[i - 1];
    if (writes[i].offset < last.offset + last.bytes.length) return false;
  }
  return true;
}
var ShiftRun = class {
  constructor(pool) {
    this.pool = pool;
  }
  pool;
  buffer = new Uint8Array(SHIFT_RUN_BYTES);
  offset = 0;
  length = 0;
  /** Adds `record` to be written at `offset`: after the gathered ones, or else after writing them. */
  add(offset, record) {
    if (this.length > 0 && (offset !== this.offset + this.length || this.length === SHIFT_RUN_BYTES)) this.flush();
    if (this.length === 0) this.offset = offset;
    this.buffer.set(record, this.length);
    this.length += record.length;
  }
  /** Writes what was gathered, if anything. */
  flush() {
    if (this.length === 0) return;
    applyWrites(this.pool, [{ offset: this.offset, bytes: this.buffer.subarray(0, this.length) }]);
    this.length = 0;
  }
};
function describeKey(key) {
  if (key === "") return "(empty key)";
  return JSON.stringify(shorten2(key)).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
async function repairPool(target, options = {}) {
  assertWritable(target, options);
  return withLockedPool(target, "write", options, (pool) => {
    const actions = [];
    const fragment = pool.size % RECORD_BYTES;
    scanChunks(pool, (bytes, first) => {
      for (let i = 0; i < bytes.length / RECORD_BYTES; i++) {
        const raw = bytes.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
        const record = decodeRecord(raw, 0, first + i);
        if (record.keyTerminated && record.valueTerminated && record.validUtf8) continue;
        const key = fitText(record.key, MAX_KEY_BYTES);
        const fixed = encodeRepaired(key, fitText(record.value, MAX_VALUE_BYTES));
        applyWrites(pool, planRecordWrite(record.index * RECORD_BYTES, raw, fixed));
        const name = describeKey(key);
        if (!record.keyTerminated || !record.valueTerminated) {
          actions.push({
            action: "terminated-field",
            index: record.index,
            key,
            message: `ended the ${!record.keyTerminated ? "key" : "value"} field of ${name} that had no NUL`,
          });
        }
        if (!record.validUtf8) {
          actions.push({
            action: "replaced-invalid-utf8",
            index: record.index,
            key,
            message: `replaced invalid UTF-8 in ${name} with U+FFFD, so the host enumerates past this record again`,
          });
        }
      }
      return true;
    });
    const emptied = removeRecords(pool, (record) => record.keyBytes === 0 && record.valueBytes === 0);
    for (const record of emptied) {
      actions.push({
        action: "removed-empty-record",
        index: record.index,
        key: "",
        message: "removed an empty record (empty key and value)",
      });
    }
    if (fragment > 0 && emptied.length === 0) truncateTo(pool, pool.size - fragment);
    if (fragment > 0) {
      actions.push({
        action: "dropped-fragment",
        index: Math.floor(pool.size / RECORD_BYTES),
        message: `dropped a trailing fragment of ${fragment} bytes`,
      });
    }
    return actions.sort((a, b) => a.index - b.index);
  });
}
function encodeRepaired(key, value) {
  const out = new Uint8Array(RECORD_BYTES);
  out.set(encodeUtf8(key), 0);
  out.set(encodeUtf8(value), VALUE_FIELD_OFFSET);
  return out;
}
function fitText(text, maxBytes) {
  const bytes = encodeUtf8(text);
  if (bytes.length <= maxBytes) return text;
  return decodeUtf8(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, maxBytes))).text;
}
function assertWritable(target, options) {
  const refusal = writeRefusal(target);
  if (refusal !== void 0 && options.force !== true) {
    throw new PoolFileError("refused", `refusing to write: ${refusal} (force it only if you know why)`);
  }
}
function encodeOrExplain(record, limits) {
  try {
    return encodeRecord(record, { limits });
  } catch (error) {
    if (isKvpError(error)) {
      throw new PoolFileError("invalid", `${JSON.stringify(shorten2(record.key))}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
function shorten2(text) {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
function dropFragment(pool) {
  const whole = pool.size - (pool.size % RECORD_BYTES);
  if (whole !== pool.size) truncateTo(pool, whole);
  return whole;
}
function indexKeys(pool, records, options) {
  const firstIndexOf = /* @__PURE__ */ new Map();
  if (options.ignoreCase) {
    const wanted2 = new Set(records.map((r) => r.key.toLowerCase()));
    scanChunks(pool, (bytes, first) => {
      for (let i = 0; i < bytes.length / RECORD_BYTES; i++) {
        const field = bytes.subarray(i * RECORD_BYTES, i * RECORD_BYTES + KEY_FIELD_BYTES);
        const { text, valid } = decodeUtf8(field.subarray(0, fieldTextLength(field, 0, KEY_FIELD_BYTES)));
        const folded = text.toLowerCase();
        if (valid && wanted2.has(folded) && !firstIndexOf.has(folded)) firstIndexOf.set(folded, first + i);
      }
      return firstIndexOf.size < wanted2.size;
    });
    return firstIndexOf;
  }
  const wanted = new Map(records.map((r) => [r.key, encodeUtf8(r.key)]));
  scanChunks(pool, (bytes, first) => {
    for (const [key, keyBytes] of wanted) {
      const index = findKeyField(bytes, keyBytes);
      if (index >= 0) {
        firstIndexOf.set(key, first + index);
        wanted.delete(key);
      }
    }
    return wanted.size > 0;
  });
  return firstIndexOf;
}
function findKeyField(bytes, key) {
  const count = bytes.length / RECORD_BYTES;
  const length = key.length;
  const first = key[0];
  outer: for (let i = 0; i < count; i++) {
    const at = i * RECORD_BYTES;
    if (bytes[at] !== first || bytes[at + length] !== 0) continue;
    for (let k = 1; k < length; k++) if (bytes[at + k] !== key[k]) continue outer;
    return i;
  }
  return -1;
}

// ../../packages/pool-file/src/pool-update.ts
async function setLogicalValues(target, records, options = {}) {
  assertWritable(target, options);
  const limits = options.limits ?? (target.pool.number === 1 ? "host" : "wire");
  const latest = /* @__PURE__ */ new Map();
  for (const record of records) latest.set(record.key, record.value);
  const plans = [...latest].map(([key, value]) => {
    const stored2 = options.split === false ? [{ key, value }] : splitOrExplain(key, value);
    return {
      key,
      stored: stored2,
      encoded: stored2.map((r) => encodeOrExplain(r, stored2.length === 1 ? limits : "host")),
    };
  });
  const newKeys = new Set(plans.flatMap((plan) => plan.stored.map((r) => r.key)));
  return withLockedPool(target, "write", options, (pool) => {
    const count = dropFragment(pool) / RECORD_BYTES;
    const firstIndexOf = /* @__PURE__ */ new Map();
    const stale = /* @__PURE__ */ new Set();
    const wanted = latest.size <= FEW_KEYS ? [...latest.keys()].map((key) => encodeUtf8(key)) : void 0;
    scanChunks(pool, (bytes, first) => {
      for (let i = 0; i < bytes.length / RECORD_BYTES; i++) {
        if (wanted !== void 0 && !wanted.some((key2) => mayHoldLogicalKey(bytes, i * RECORD_BYTES, key2))) continue;
        const key = keyText(bytes, i);
        if (key === void 0 || !(latest.has(logicalKeyOf(key)) || latest.has(key))) continue;
        if (newKeys.has(key) && !firstIndexOf.has(key)) firstIndexOf.set(key, first + i);
        else if (options.split !== false || !newKeys.has(key)) stale.add(first + i);
      }
      return true;
    });
    const outcomes = plans.map(() => []);
    const appended = [];
    plans.forEach((plan, p) => {
      plan.stored.forEach((record, part) => {
        const bytes = plan.encoded[part];
        const index = firstIndexOf.get(record.key);
        if (index === void 0) {
          appended.push({ plan: p, part, key: record.key, bytes });
          return;
        }
        const offset = index * RECORD_BYTES;
        const before = readAt(pool, offset, RECORD_BYTES);
        const previous = decodeRecord(before, 0, index);
        const writes = planRecordWrite(offset, before, encodeRecord(record, { limits: "wire" }));
        applyWrites(pool, writes);
        outcomes[p][part] = {
          key: record.key,
          action: previous.value === record.value && writes.length === 0 ? "unchanged" : "modified",
          index,
          previous: previous.value,
        };
      });
    });
    const removed = stale.size > 0 ? removeRecords(pool, (record) => stale.has(record.index)) : [];
    const removedIndexes = removed.map((r) => r.index);
    for (const list2 of outcomes) {
      list2.forEach((outcome, part) => {
        const shift = removedIndexes.filter((i) => i < outcome.index).length;
        list2[part] = { ...outcome, index: outcome.index - shift };
      });
    }
    const end = count - removed.length;
    if (appended.length > 0) {
      const block = new Uint8Array(appended.length * RECORD_BYTES);
      appended.forEach((a, k) => {
        block.set(a.bytes, k * RECORD_BYTES);
        outcomes[a.plan][a.part] = { key: a.key, action: "appended", index: end + k };
      });
      applyWrites(pool, [{ offset: end * RECORD_BYTES, bytes: block }]);
    }
    return plans.map((plan, p) => ({
      key: plan.key,
      parts: plan.stored.length,
      records: outcomes[p],
      removed: removed.filter((r) => r.keyValidUtf8 && logicalKeyOf(r.key) === plan.key),
    }));
  });
}
async function removeLogicalKeys(target, keys, options = {}) {
  assertWritable(target, options);
  if (typeof keys === "function") {
    return withLockedPool(target, "write", options, (pool) =>
      removeRecords(pool, (record) => keys(logicalKeyOf(record.key), record)),
    );
  }
  const { keys: list2, where } = "where" in keys ? keys : { keys, where: void 0 };
  const wanted = new Set(list2);
  const matches = (record) => {
    if (!record.keyValidUtf8) return false;
    const logicalKey = logicalKeyOf(record.key);
    return wanted.has(logicalKey) && (where === void 0 || where(logicalKey, record));
  };
  if (wanted.size <= FEW_KEYS) {
    const bytesOf = [...wanted].map((key) => encodeUtf8(key));
    const mayRemove = (bytes, at) => bytesOf.some((key) => mayHoldLogicalKey(bytes, at, key));
    return withLockedPool(target, "write", options, (pool) => removeRecords(pool, matches, mayRemove));
  }
  return withLockedPool(target, "write", options, (pool) => removeRecords(pool, matches));
}
var FEW_KEYS = 8;
function keyText(bytes, i) {
  const field = bytes.subarray(i * RECORD_BYTES, i * RECORD_BYTES + KEY_FIELD_BYTES);
  const { text, valid } = decodeUtf8(field.subarray(0, fieldTextLength(field, 0, KEY_FIELD_BYTES)));
  return valid ? text : void 0;
}
function splitOrExplain(key, value) {
  try {
    return splitValue(key, value);
  } catch (error) {
    if (isKvpError(error)) {
      const shown = key.length > 60 ? `${key.slice(0, 57)}...` : key;
      throw new PoolFileError("invalid", `${JSON.stringify(shown)}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

// ../../packages/pool-file/src/watch-pool.ts
var import_node_fs5 = require("node:fs");
function snapshotPool(records, options = {}) {
  const entries = /* @__PURE__ */ new Map();
  if (!options.reassemble) {
    for (const r of records) if (!entries.has(r.key)) entries.set(r.key, { value: r.value, index: r.index });
    return { entries, held: /* @__PURE__ */ new Set(), problems: [] };
  }
  const { records: logical, problems } = reassembleRecords(records);
  const strayBases = /* @__PURE__ */ new Set();
  for (const r of logical) {
    if (r.record) {
      const part = r.record.keyValidUtf8 ? parseChunkKey(r.key) : void 0;
      if (part) {
        strayBases.add(part.base);
        continue;
      }
      if (!entries.has(r.key)) entries.set(r.key, { value: r.value, index: r.record.index });
    } else if (!entries.has(r.key)) {
      entries.set(r.key, { value: r.value, index: Math.min(...r.parts.map((p) => p.index)), parts: r.parts.length });
    }
  }
  const held = new Set([...strayBases].filter((base) => !entries.has(base)));
  return { entries, held, problems };
}
function watchPool(target, options) {
  const debounceMs = options.debounceMs ?? 50;
  const safetyNetMs = options.safetyNetMs ?? 3e4;
  const reassemble = options.reassemble === true;
  const fileName = poolFileName(target.pool.number);
  let watcher;
  let timer;
  let reported;
  let shownProblems = /* @__PURE__ */ new Set();
  let reading = false;
  let again = false;
  let closed = false;
  let lastError;
  const tell = (error, original) => {
    if (!options.onError) {
      throwOutside(original);
      return;
    }
    try {
      options.onError(error);
    } catch (thrown) {
      throwOutside(thrown);
    }
  };
  const report2 = (error) => {
    const wrapped =
      error instanceof PoolFileError ? error : new PoolFileError("io", `watching ${target.path}: ${String(error)}`);
    if (wrapped.code === lastError) return;
    lastError = wrapped.code;
    if (options.onError) tell(wrapped, error);
  };
  const deliver = (name, callback) => {
    if (closed) return;
    try {
      callback();
    } catch (thrown) {
      const reason = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
      tell(
        new PoolFileError("callback", `watching ${target.path}: ${name} threw ${reason}`, { cause: thrown }),
        thrown,
      );
    }
  };
  const reread = async () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      let content;
      try {
        content = await readPool(target, { timeoutMs: options.timeoutMs ?? 5e3 });
      } catch (error) {
        report2(error);
        return;
      }
      lastError = void 0;
      if (closed) return;
      const snapshot = snapshotPool(content.records, { reassemble });
      const before = reported;
      const next = new Map(snapshot.entries);
      for (const key of snapshot.held) {
        const last = before?.get(key);
        if (last !== void 0) next.set(key, last);
      }
      reported = next;
      const problemIds = new Set(snapshot.problems.map(problemId));
      const fresh = snapshot.problems.filter((p) => !shownProblems.has(problemId(p)));
      shownProblems = problemIds;
      if (fresh.length > 0 && options.onChunkProblems) {
        const onChunkProblems = options.onChunkProblems;
        deliver("onChunkProblems", () => onChunkProblems(fresh, content));
      }
      if (before === void 0) {
        const onReady = options.onReady;
        if (onReady) deliver("onReady", () => onReady(content));
      } else {
        const changes = diffPools(before, next);
        if (changes.length > 0) deliver("onChange", () => options.onChange(changes, content));
      }
    } finally {
      reading = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(reread, debounceMs);
  };
  const startWatcher = () => {
    if (watcher || closed) return;
    try {
      watcher = (0, import_node_fs5.watch)(target.dir, { persistent: true }, (_event, name) => {
        if (name === null || name === fileName) schedule();
      });
      watcher.on("error", (error) => {
        watcher?.close();
        watcher = void 0;
        report2(error);
      });
    } catch (error) {
      report2(
        new PoolFileError(
          "daemon-absent",
          `cannot watch ${target.dir}: hv_kvp_daemon seems absent; retrying every ${Math.round(safetyNetMs / 1e3)} s`,
          { cause: error },
        ),
      );
    }
  };
  const safetyNet = setInterval(() => {
    startWatcher();
    void reread();
  }, safetyNetMs);
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    clearInterval(safetyNet);
    watcher?.close();
    options.signal?.removeEventListener("abort", close);
  };
  options.signal?.addEventListener("abort", close);
  startWatcher();
  void reread();
  return { close };
}
function problemId(problem) {
  return `${problem.reason}\0${problem.key}`;
}
function throwOutside(error) {
  setImmediate(() => {
    throw error;
  });
}
function diffPools(before, after) {
  const changes = [];
  for (const [key, entry] of after) {
    const old = before.get(key);
    const parts = entry.parts === void 0 ? {} : { parts: entry.parts };
    if (old === void 0) changes.push({ type: "added", key, value: entry.value, index: entry.index, ...parts });
    else if (old.value !== entry.value)
      changes.push({ type: "changed", key, value: entry.value, previous: old.value, index: entry.index, ...parts });
  }
  for (const [key, entry] of before) {
    if (!after.has(key)) changes.push({ type: "removed", key, previous: entry.value, index: entry.index });
  }
  return changes;
}

// ../../packages/pool-file/src/auto-pool.ts
var import_node_fs6 = require("node:fs");
var import_node_os2 = require("node:os");
var AUTO_POOL_KEYS = [
  "FullyQualifiedDomainName",
  "IntegrationServicesVersion",
  "NetworkAddressIPv4",
  "NetworkAddressIPv6",
  "OSBuildNumber",
  "OSName",
  "OSMajorVersion",
  "OSMinorVersion",
  "OSVersion",
  "ProcessorArchitecture",
];
var KERNEL_KVP_VERSION = "3.1";
var OS_RELEASE_PATH = "/etc/os-release";
var LEGACY_RELEASE_PATHS = ["/etc/SuSE-release", "/etc/redhat-release"];
var RELEASE_LINE_BYTES = 512;
var AUTO_VALUE_BYTES = 2048;
var ADDRESS_ROOM = { 4: 16, 6: 46 };
function synthesizeAutoPool(options = {}) {
  const c = libc();
  const os = describeOs({
    sysname: (0, import_node_os2.type)(),
    release: (0, import_node_os2.release)(),
    machine: (0, import_node_os2.machine)(),
    osRelease: readLikeFopen(options.osReleasePath ?? OS_RELEASE_PATH),
    legacyRelease: () => {
      for (const path of LEGACY_RELEASE_PATHS) {
        const bytes = readLikeFopen(path);
        if (bytes !== void 0) return bytes;
      }
      return void 0;
    },
  });
  const hostname = c.gethostname(AUTO_VALUE_BYTES) ?? "";
  const fqdn = formatDomainName(
    c.getCanonicalName(hostname, { flags: AI_CANONNAME, family: AF_INET, socktype: SOCK_STREAM }),
  );
  const interfaces = c.getifaddrs();
  const addresses = (version) => {
    if (!interfaces.ok) return "getifaddrs failed\n";
    const family = version === 4 ? AF_INET : AF_INET6;
    const texts = selectAddresses(interfaces.entries, version).map((a) => c.inetNtop(family, a));
    return formatAddressList(texts, version);
  };
  const values = {
    FullyQualifiedDomainName: fqdn,
    IntegrationServicesVersion: options.integrationServicesVersion ?? KERNEL_KVP_VERSION,
    NetworkAddressIPv4: addresses(4),
    NetworkAddressIPv6: addresses(6),
    OSBuildNumber: os.build,
    OSName: os.name,
    OSMajorVersion: os.major,
    OSMinorVersion: os.minor,
    OSVersion: os.version,
    ProcessorArchitecture: os.architecture,
  };
  return AUTO_POOL_KEYS.map((key) => ({ key, value: values[key] }));
}
function describeOs(sources) {
  const base = {
    version: stripBuildSuffix(sources.release),
    build: sources.release,
    architecture: sources.machine,
  };
  if (sources.osRelease !== void 0) {
    const parsed = parseOsRelease(sources.osRelease);
    return { ...base, name: parsed.name ?? sources.sysname, major: parsed.versionId ?? "", minor: "" };
  }
  const legacy = typeof sources.legacyRelease === "function" ? sources.legacyRelease() : sources.legacyRelease;
  const lines = legacy === void 0 ? {} : parseLegacyRelease(legacy);
  return { ...base, name: lines.name ?? sources.sysname, major: lines.major ?? "", minor: lines.minor ?? "" };
}
function stripBuildSuffix(release2) {
  const dash = release2.indexOf("-");
  return dash === -1 ? release2 : release2.slice(0, dash);
}
function parseOsRelease(bytes) {
  const result = {};
  for (const line of fgetsLines(bytes)) {
    if (line[0] === HASH) continue;
    const eq = line.indexOf(EQUALS);
    if (eq === -1) continue;
    const key = decodeText2(line.subarray(0, eq));
    if (key !== "NAME" && key !== "VERSION_ID") continue;
    const value = decodeText2(unquote(line.subarray(eq + 1)));
    if (key === "NAME") result.name = value;
    else result.versionId = value;
  }
  return result;
}
function parseLegacyRelease(bytes) {
  const [first, second, third] = fgetsLines(bytes, 3).map((line) => {
    const newline = line.indexOf(NEWLINE);
    return decodeText2(newline === -1 ? line : line.subarray(0, newline));
  });
  return {
    ...(first === void 0 ? {} : { name: first }),
    ...(second === void 0 ? {} : { major: second }),
    ...(third === void 0 ? {} : { minor: third }),
  };
}
function selectAddresses(entries, version) {
  const family = version === 4 ? AF_INET : AF_INET6;
  const selected = [];
  for (const entry of entries) {
    if (entry.family !== family || (entry.flags & IFF_LOOPBACK) !== 0 || entry.address === void 0) continue;
    selected.push(entry.address);
  }
  return selected;
}
function formatAddressList(texts, version) {
  let value = "";
  let used = 0;
  for (const text of texts) {
    if (AUTO_VALUE_BYTES - used < ADDRESS_ROOM[version] + 2) break;
    if (text === null) return "inet_ntop failed\n";
    value = used === 0 ? text : `${value};${text}`;
    used += utf8Length(text) + 1;
  }
  return value;
}
function formatDomainName(answer) {
  const text = answer.ok
    ? (answer.canonicalName ?? "(null)")
    : `getaddrinfo failed: 0x${(answer.error >>> 0).toString(16)} ${answer.message}`;
  return limitBytes(text, AUTO_VALUE_BYTES - 1);
}
var HASH = 35;
var EQUALS = 61;
var NEWLINE = 10;
var BACKSLASH = 92;
var QUOTE = 39;
var DOUBLE_QUOTE = 34;
function fgetsLines(bytes, limit = Number.POSITIVE_INFINITY) {
  const lines = [];
  let start = 0;
  while (start < bytes.length && lines.length < limit) {
    const max = Math.min(bytes.length, start + RELEASE_LINE_BYTES - 1);
    let end = start;
    while (end < max) {
      end++;
      if (bytes[end - 1] === NEWLINE) break;
    }
    const piece = bytes.subarray(start, end);
    const nul = piece.indexOf(0);
    lines.push(nul === -1 ? piece : piece.subarray(0, nul));
    start = end;
  }
  return lines;
}
function unquote(value) {
  const out = [];
  for (let i = 0; i < value.length; i++) {
    const b = value[i];
    if (b === BACKSLASH) {
      i++;
      if (i >= value.length) break;
      out.push(value[i]);
    } else if (b !== QUOTE && b !== DOUBLE_QUOTE && b !== NEWLINE) {
      out.push(b);
    }
  }
  return Uint8Array.from(out);
}
function decodeText2(bytes) {
  return new TextDecoder().decode(bytes);
}
function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}
function limitBytes(text, max) {
  const bytes = encodeUtf8(text);
  if (bytes.length <= max) return text;
  return decodeText2(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, max)));
}
function readLikeFopen(path) {
  try {
    return (0, import_node_fs6.readFileSync)(path);
  } catch (error) {
    return errnoCode(error) === "EISDIR" ? new Uint8Array(0) : void 0;
  }
}

// src/commands/chunk-notes.ts
var MAX_CHUNK_NOTES = 20;
function chunkNotes(pool, problems) {
  const notes = problems.slice(0, MAX_CHUNK_NOTES).map((p) => `pool ${pool}: ${p.message} (${recordsText(p)})`);
  if (problems.length > MAX_CHUNK_NOTES) {
    notes.push(
      `pool ${pool}: ${problems.length - MAX_CHUNK_NOTES} more chunked value(s) shown as stored (kvp-pool check --pool ${pool} lists them)`,
    );
  }
  return notes;
}
function recordsText(problem) {
  const indexes = problem.records.map((r) => r.index);
  const shown = indexes.length > 10 ? `${indexes.slice(0, 10).join(", ")}, \u2026` : indexes.join(", ");
  return `${indexes.length === 1 ? "record" : "records"} ${shown}`;
}
function watchChunkNotes(pool, problems) {
  const notes = problems.slice(0, MAX_CHUNK_NOTES).map((p) => `pool ${pool}: ${watchProblemText(p)}`);
  if (problems.length > MAX_CHUNK_NOTES) {
    notes.push(
      `pool ${pool}: ${problems.length - MAX_CHUNK_NOTES} more chunked value problem(s) (kvp-pool check --pool ${pool} lists them)`,
    );
  }
  return notes;
}
function watchProblemText(p) {
  const key = JSON.stringify(p.key.length > 60 ? `${p.key.slice(0, 40)}...${p.key.slice(-17)}` : p.key);
  const where = recordsText(p);
  switch (p.reason) {
    case "plain-beside-parts":
      return `${key} is stored both as a plain record and in parts (${where}); watch follows the plain record, as lookups do`;
    case "duplicate-part":
      return `parts of ${key} are stored more than once (${where}); the first copy of each counts`;
    default:
      return `${p.message.replace(/; shown as stored$/, "")} (${where}); until its parts are whole or all gone, watch reports no change of ${key}`;
  }
}

// src/print.ts
function formatList(result) {
  const lines = [];
  let current = -1;
  for (const r of result.records) {
    if (r.pool !== current) {
      current = r.pool;
      lines.push(
        `${lines.length > 0 ? "\n" : ""}# pool ${r.pool} (${r.poolName})${r.synthesized ? ", synthesised by the daemon" : ""}`,
      );
    }
    const flag = r.validUtf8 === false ? "   (invalid UTF-8)" : r.parts !== void 0 ? `   (${r.parts} parts)` : "";
    lines.push(`${printable(r.key)} = ${printable(r.value)}${flag}`);
  }
  return lines.length > 0
    ? `${lines.join("\n")}
`
    : "";
}
function formatValue(record) {
  return `${record.value}
`;
}
function formatDiagnostic(pool, d) {
  const key =
    d.key !== void 0 ? ` ${JSON.stringify(printable(d.key.length > 40 ? `${d.key.slice(0, 37)}...` : d.key))}` : "";
  return `pool ${pool} record ${d.index} @${d.offset}${key}: ${d.severity} ${d.code}: ${d.message}`;
}
function formatCheck(results, verbose) {
  const lines = [];
  for (const c of results) {
    if (c.failure) {
      lines.push(`pool ${c.pool} (${c.poolName}): cannot check: ${c.failure.message}`);
      continue;
    }
    for (const r of c.repairs ?? []) lines.push(`pool ${c.pool} record ${r.index}: repaired: ${r.message}`);
    const report2 = c.report;
    for (const d of report2.diagnostics) {
      if (d.severity === "info" && !verbose) continue;
      lines.push(formatDiagnostic(c.pool, d));
    }
    const chunks = c.chunks ?? [];
    for (const f of chunks.slice(0, MAX_CHUNK_NOTES)) {
      const where =
        f.indexes.length === 1
          ? `record ${f.indexes[0]}`
          : `records ${f.indexes.slice(0, 10).join(",")}${f.indexes.length > 10 ? ",\u2026" : ""}`;
      lines.push(`pool ${c.pool} ${where}: warning chunk-${f.reason}: ${f.message}`);
    }
    if (chunks.length > MAX_CHUNK_NOTES)
      lines.push(
        `pool ${c.pool}: ${chunks.length - MAX_CHUNK_NOTES} more chunked value problem(s) (--json lists them all)`,
      );
    const omitted = Object.entries(report2.omitted ?? {});
    if (omitted.length > 0) {
      const counts = omitted.map(([code, n]) => `${n} ${code}`).join(", ");
      lines.push(`pool ${c.pool}: not listed, only counted (more of the same kind): ${counts}`);
    }
    const infos =
      report2.diagnostics.filter((d) => d.severity === "info").length + (report2.omitted?.["garbage-after-nul"] ?? 0);
    const chunkText = chunks.length > 0 ? `, ${chunks.length} chunked value problem(s)` : "";
    const verdict =
      report2.errors + report2.warnings + chunks.length === 0
        ? "ok"
        : `${report2.errors} error(s), ${report2.warnings} warning(s)${chunkText}`;
    lines.push(
      `pool ${c.pool} (${c.poolName}) ${c.path}: ${report2.records} record(s), ${verdict}` +
        (infos > 0 && !verbose ? `, ${infos} note(s) (--verbose shows them)` : ""),
    );
  }
  return `${lines.join("\n")}
`;
}
function formatEvent(e) {
  const key = printable(e.key);
  const parts = e.type !== "removed" && e.parts !== void 0 ? `   (${e.parts} parts)` : "";
  if (e.type === "added")
    return `${e.time} pool ${e.pool} added   ${key} = ${printable(e.value)}${parts}
`;
  if (e.type === "changed") {
    return `${e.time} pool ${e.pool} changed ${key} = ${printable(e.value)} (was ${printable(e.previous)})${parts}
`;
  }
  return `${e.time} pool ${e.pool} removed ${key} (was ${printable(e.previous)})
`;
}

// src/commands/pool-option.ts
var POOL_HELP = "pool number or name: 0|external, 1|guest, 2|auto, 3|auto-external, 4|auto-internal";
function parsePoolOption(text, command) {
  try {
    return parsePool(text);
  } catch (error) {
    if (isKvpError(error)) throw new CliError("usage", error.message, `kvp-pool ${command} --help`);
    throw error;
  }
}
var ALL_POOLS = POOLS;

// src/commands/check.ts
async function check(options) {
  const pools = (options.pools ?? ALL_POOLS.filter((p) => p.number === 1)).filter((p) => p.number !== 2);
  const access = options.timeoutMs === void 0 ? {} : { timeoutMs: options.timeoutMs };
  const results = [];
  for (const pool of pools) {
    const target = poolTarget(pool, options.dir);
    const base = { pool: pool.number, poolName: pool.name, path: target.path };
    try {
      const repairs = options.repair
        ? await repairPool(target, { ...access, ...(options.force ? { force: true } : {}) })
        : void 0;
      const report2 = await checkPoolFile(target, access);
      const { problems } = reassembleRecords(await chunkCandidates(target, access));
      const chunks = problems.map((p) => ({
        key: p.key,
        reason: p.reason,
        message: p.message,
        indexes: p.records.map((r) => r.index),
      }));
      results.push({ ...base, report: report2, ...(repairs ? { repairs } : {}), chunks });
    } catch (error) {
      if (!isPoolFileError(error)) throw error;
      results.push({ ...base, failure: { code: error.code, message: error.message } });
    }
  }
  return results;
}
async function chunkCandidates(target, access) {
  const parts = [];
  const plain = /* @__PURE__ */ new Map();
  await forEachRecord(
    target,
    (record) => {
      if (parseChunkKey(record.key)) parts.push({ ...record, value: "" });
      else if (!plain.has(record.key)) plain.set(record.key, { ...record, value: "" });
    },
    access,
  );
  const bases = new Set(parts.map((r) => parseChunkKey(r.key).base));
  const related = [...plain.values()].filter((r) => bases.has(r.key));
  return [...parts, ...related].sort((a, b) => a.index - b.index);
}
var checkCommand = (program2, { run, ctx, globals }) =>
  program2
    .command("check")
    .description(
      "find what the daemon or the host would stumble on, and chunked values that cannot be reassembled (pool 1 unless --pool or --all-pools)",
    )
    .option("--pool <pool>", POOL_HELP)
    .option("--all-pools", "check pools 0, 1, 3 and 4")
    .option("--repair", "fix what is safe to fix, under the write lock, and say what was done")
    .option("--force", "allow --repair on pools the daemon owns")
    .option("--verbose", "also show notes (such as garbage after NULs, which is harmless)")
    .option("--json", "print the reports as JSON")
    .addHelpText("after", "\nExit code 1 when errors or warnings remain.")
    .action(async (opts) => {
      if (opts.pool !== void 0 && opts.allPools)
        throw new CliError("usage", "give --pool or --all-pools, not both", `${run.tool} check --help`);
      const pools =
        opts.pool !== void 0
          ? [parsePoolOption(opts.pool, "check")]
          : opts.allPools
            ? ALL_POOLS
            : [parsePoolOption("1", "check")];
      const results = await check({
        ...globals(),
        pools,
        ...(opts.repair ? { repair: true } : {}),
        ...(opts.force ? { force: true } : {}),
      });
      if (opts.json) run.json(results);
      else ctx.stdout.write(formatCheck(results, opts.verbose === true));
      if (results.some((r) => r.failure)) run.setExitCode(KIT_EXIT.io);
      else if (results.some((r) => r.report && r.report.errors + r.report.warnings + (r.chunks?.length ?? 0) > 0))
        run.setExitCode(KIT_EXIT.notFound);
    });

// src/commands/delete.ts
async function del(key, options) {
  const target = poolTarget(options.pool, options.dir);
  const access = {
    ...(options.force ? { force: true } : {}),
    ...(options.timeoutMs === void 0 ? {} : { timeoutMs: options.timeoutMs }),
  };
  let removed;
  if (options.raw) {
    removed = await deleteRecord(target, key, {
      ...access,
      ...(options.all ? { all: true } : {}),
      ...(options.ignoreCase ? { ignoreCase: true } : {}),
    });
  } else {
    const fold = options.ignoreCase ? (text) => text.toLowerCase() : (text) => text;
    const wanted = fold(key);
    let plain = 0;
    const where = (logicalKey, record) => {
      if (!record.keyValidUtf8 || fold(logicalKey) !== wanted) return false;
      if (record.key !== logicalKey) return true;
      plain++;
      return options.all === true || plain === 1;
    };
    removed = await removeLogicalKeys(target, options.ignoreCase ? where : { keys: [key], where }, access);
  }
  if (removed.length === 0) {
    const part =
      !options.raw && parseChunkKey(key)
        ? " (that names one part of a chunked value: delete --raw deletes it alone)"
        : "";
    throw new CliError(
      "not-found",
      `no key ${JSON.stringify(key)} in pool ${options.pool.number} (${options.pool.name}) ${target.path}${part}`,
    );
  }
  return removed;
}
var deleteCommand = (program2, { run, globals }) =>
  program2
    .command("delete")
    .alias("remove")
    .description(
      "delete the first record with KEY (or --all) and every part KEY#i/N of a chunked KEY, keeping the order of the rest",
    )
    .argument("<key>", "the key")
    .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
    .option("--all", "delete every record with KEY")
    .option("--ignore-case", "match the key case-insensitively")
    .option("--raw", "delete only the stored record with exactly KEY (e.g. one part, KEY#2/3)")
    .option("--force", "write a pool the daemon owns (0, 2, 3, 4)")
    .option("--json", "print the deleted records as JSON")
    .addHelpText("after", "\nExit code 1 when the key is absent (nothing is written).")
    .action(async (key, opts) => {
      const pool = parsePoolOption(opts.pool, "delete");
      const removed = await del(key, {
        ...globals(),
        pool,
        ...(opts.all ? { all: true } : {}),
        ...(opts.raw ? { raw: true } : {}),
        ...(opts.ignoreCase ? { ignoreCase: true } : {}),
        ...(opts.force ? { force: true } : {}),
      });
      if (opts.json) run.json(removed.map((r) => ({ pool: pool.number, index: r.index, key: r.key, value: r.value })));
    });

// src/commands/get.ts
async function get(key, options) {
  const target = poolTarget(options.pool, options.dir);
  const access = options.timeoutMs === void 0 ? {} : { timeoutMs: options.timeoutMs };
  const match = { ...(options.ignoreCase ? { ignoreCase: true } : {}) };
  const where = `in pool ${options.pool.number} (${options.pool.name}) ${target.path}`;
  if (options.raw) {
    const record = await getRecord(target, key, { ...access, ...match });
    if (!record) throw new CliError("not-found", `no key ${JSON.stringify(key)} ${where}`);
    return stored(record);
  }
  const matches = keyMatcher(key, match);
  const relevant = [];
  const keyBytes = options.ignoreCase ? void 0 : encoder2.encode(key);
  let partSeen = false;
  await scanPool(
    target,
    (bytes, first) => {
      for (let at = 0; at < bytes.length; at += RECORD_BYTES) {
        if (keyBytes !== void 0 && !mayHoldLogicalKey(bytes, at, keyBytes)) continue;
        const record = decodeRecord(bytes, at, first + at / RECORD_BYTES);
        const part2 = parseChunkKey(record.key);
        if (part2 ? matches({ key: part2.base, value: "", keyValidUtf8: record.keyValidUtf8 }) : matches(record)) {
          relevant.push(record);
          if (part2) partSeen = true;
          else if (!partSeen) return false;
        }
      }
      return true;
    },
    access,
  );
  const { records, problems } = reassembleRecords(relevant);
  const found = records.find((r) =>
    matches({ key: r.key, value: r.value, ...(r.record ? { keyValidUtf8: r.record.keyValidUtf8 } : {}) }),
  );
  if (found?.record) return stored(found.record);
  if (found?.parts) {
    return {
      index: Math.min(...found.parts.map((p) => p.index)),
      key: found.key,
      value: found.value,
      parts: found.parts.length,
    };
  }
  const why = problems.filter((p) => matches({ key: p.key, value: "" })).map((p) => `; ${p.message}`);
  const part = parseChunkKey(key) ? " (that names one part of a chunked value: get --raw reads it as stored)" : "";
  throw new CliError("not-found", `no key ${JSON.stringify(key)} ${where}${why.join("")}${part}`);
}
var encoder2 = new TextEncoder();
function stored(record) {
  return {
    index: record.index,
    key: record.key,
    value: record.value,
    ...(record.validUtf8 ? {} : { validUtf8: false }),
  };
}
var getCommand = (program2, { run, ctx, globals }) =>
  program2
    .command("get")
    .description("print the value of KEY (first match, exact case unless --ignore-case); a chunked value whole")
    .argument("<key>", "the key")
    .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
    .option("--ignore-case", "match the key case-insensitively")
    .option("--raw", "read the stored record with exactly KEY (e.g. one part, KEY#2/3); nothing is reassembled")
    .option("--json", "print the record as JSON (with parts: N for a reassembled value)")
    .addHelpText(
      "after",
      "\nExit code 1 when the key is absent.\nExamples:\n  kvp-pool get cloudstack-vm-userdata --pool external\n  kvp-pool get report            the value stored as report#1/N \u2026 report#N/N\n  kvp-pool get --raw 'report#2/3'",
    )
    .action(async (key, opts) => {
      const pool = parsePoolOption(opts.pool, "get");
      const record = await get(key, {
        ...globals(),
        pool,
        ...(opts.ignoreCase ? { ignoreCase: true } : {}),
        ...(opts.raw ? { raw: true } : {}),
      });
      if (!opts.json) {
        ctx.stdout.write(formatValue(record));
        return;
      }
      run.json({
        pool: pool.number,
        poolName: pool.name,
        index: record.index,
        key: record.key,
        value: record.value,
        ...(record.parts === void 0 ? {} : { parts: record.parts }),
      });
    });

// src/commands/list.ts
async function list(options) {
  const pools = options.pool ? [options.pool] : ALL_POOLS;
  const records = [];
  const failures = [];
  const notes = [];
  const chunkProblems = [];
  for (const pool of pools) {
    const base = { pool: pool.number, poolName: pool.name };
    if (pool.number === 2) {
      let synthesized;
      try {
        synthesized = (options.synthesizeAutoPool ?? synthesizeAutoPool)();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push({
          ...base,
          code: isPoolFileError(error) ? error.code : "io",
          message: `pool 2 (auto): cannot tell what hv_kvp_daemon would send: ${reason}`,
        });
        continue;
      }
      notes.push(
        "pool 2 (auto) is synthesised by hv_kvp_daemon each time the host asks; its file stays empty. Shown: what the daemon would send for this machine.",
      );
      synthesized.forEach((record, index) => {
        records.push({ ...base, index, key: record.key, value: record.value, synthesized: true });
      });
      continue;
    }
    try {
      const target = poolTarget(pool, options.dir);
      const content = await readPool(target, options.timeoutMs === void 0 ? {} : { timeoutMs: options.timeoutMs });
      if (options.raw) {
        for (const r of content.records) records.push(listed(pool, r.index, r.key, r.value, r.validUtf8));
      } else {
        const logical = reassembleRecords(content.records);
        for (const r of logical.records) {
          if (r.record) {
            records.push(listed(pool, r.record.index, r.key, r.value, r.record.validUtf8));
          } else {
            records.push({
              ...base,
              index: Math.min(...r.parts.map((p) => p.index)),
              key: r.key,
              value: r.value,
              parts: r.parts.length,
            });
          }
        }
        chunkProblems.push(...chunkNotes(pool.number, logical.problems));
      }
      if (content.trailingBytes > 0) {
        notes.push(
          `pool ${pool.number}: ${content.trailingBytes} trailing bytes after the last whole record were ignored (kvp-pool check --pool ${pool.number})`,
        );
      }
    } catch (error) {
      if (!isPoolFileError(error)) throw error;
      failures.push({ ...base, code: error.code, message: error.message });
    }
  }
  return { records, failures, notes, chunkNotes: chunkProblems };
}
var listCommand = (program2, { run, ctx, globals }) =>
  program2
    .command("list")
    .description("list records in file order (every pool unless --pool); chunked values reassembled")
    .option("--pool <pool>", POOL_HELP)
    .option("--raw", "show the stored records as they are: parts KEY#i/N are not reassembled")
    .option("--json", "JSON array of {pool, poolName, index, key, value}, plus parts: N for a reassembled value")
    .addHelpText(
      "after",
      "\nPool 2 (auto) is synthesised by the daemon; list shows what it would send for this machine.\nA value stored as parts KEY#1/N \u2026 KEY#N/N is listed once as KEY, where its first part is;\nparts that cannot be reassembled (one missing, two splits mixed) are listed as stored, with a note.\nA pool that cannot be read (pool 2: synthesised) is one line on stderr; the others are still\nlisted, and the exit code is 3.",
    )
    .action(async (opts) => {
      const result = await list({
        ...globals(),
        ...(opts.pool ? { pool: parsePoolOption(opts.pool, "list") } : {}),
        ...(opts.raw ? { raw: true } : {}),
        ...(ctx.synthesizeAutoPool ? { synthesizeAutoPool: ctx.synthesizeAutoPool } : {}),
      });
      if (opts.json) run.json(result.records);
      else ctx.stdout.write(formatList(result));
      if (!opts.json) for (const note of result.notes) run.note(note);
      for (const note of result.chunkNotes) run.note(note);
      for (const f of result.failures)
        ctx.stderr.write(`${run.tool}: ${f.message}
`);
      if (result.failures.length > 0) run.setExitCode(KIT_EXIT.io);
    });
function listed(pool, index, key, value, validUtf8) {
  const record = {
    pool: pool.number,
    poolName: pool.name,
    index,
    key,
    value,
  };
  if (!validUtf8) record.validUtf8 = false;
  return record;
}

// src/commands/set.ts
async function set(records, options) {
  const target = poolTarget(options.pool, options.dir);
  const common = {
    ...(options.force ? { force: true } : {}),
    ...(options.create ? { create: true } : {}),
    ...(options.timeoutMs === void 0 ? {} : { timeoutMs: options.timeoutMs }),
  };
  if (options.chunk) return setLogicalValues(target, records, common);
  if (!options.ignoreCase && !records.some((r) => parseChunkKey(r.key))) {
    const outcomes = await setLogicalValues(target, records, {
      ...common,
      split: false,
      ...(options.wireLimits ? { limits: "wire" } : {}),
    });
    return outcomes.map((o) => o.records[0]);
  }
  return setRecords(target, records, {
    ...common,
    ...(options.wireLimits ? { limits: "wire" } : {}),
    ...(options.ignoreCase ? { ignoreCase: true } : {}),
  });
}
function fitsOnlyTheWire(record) {
  if (isHostVisible(record)) return false;
  try {
    validateRecord(record);
    return true;
  } catch {
    return false;
  }
}
function explainRefusal(error, records, tool) {
  if (!isPoolFileError(error, "invalid") || !isKvpError(error.cause) || !records.some(fitsOnlyTheWire)) return error;
  const chunk = isKvpError(error.cause, "invalid-value")
    ? `
${tool}: --chunk sends it whole, as parts KEY#1/N \u2026 KEY#N/N that kvp-pool get reassembles`
    : "";
  return new CliError(
    "usage",
    `${error.message}${chunk}
${tool}: --wire-limits stores up to 511/2047 bytes, but the host would still get it cut`,
    `${tool} set --help`,
  );
}
var setCommand = (program2, { run, ctx, globals }) =>
  program2
    .command("set")
    .description("add or change records (upsert): KEY VALUE, or many from --from-file")
    .argument("[key]", "the key")
    .argument("[value]", "the value (may be empty)")
    .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
    .option(
      "--from-file <file>",
      "KEY=VALUE lines or a JSON object ('-' reads stdin; UTF-8, or UTF-16 with a BOM); all set under one lock",
    )
    .option(
      "--chunk",
      "store a value longer than the host receives whole (1022 UTF-16 units) as parts KEY#1/N \u2026 KEY#N/N, each whole for the host; removes earlier parts of KEY",
    )
    .option(
      "--wire-limits",
      "allow up to 511/2047 bytes; by default pool 1 refuses what the host would get truncated (254/1022 UTF-16 units)",
    )
    .option("--ignore-case", "match existing keys case-insensitively")
    .option("--create", "create the pool file if it is missing")
    .option("--force", "write a pool the daemon owns (0, 2, 3, 4)")
    .option("--json", "print what was done as JSON")
    .addHelpText(
      "after",
      `
--from-file: KEY=VALUE lines (blank lines and # comments skipped) or a JSON object of strings,
numbers or booleans.
Examples:
  kvp-pool set ReadyState ready
  printf 'a=1\\nb=2\\n' | kvp-pool set --from-file -
  kvp-pool set --from-file facts.json --json
  kvp-pool set --chunk report "$(cat report.txt)"   up to 999 parts; kvp-pool get report reassembles it`,
    )
    .action(async (key, value, opts) => {
      const hint = `${run.tool} set --help`;
      const pool = parsePoolOption(opts.pool, "set");
      if (opts.chunk && (opts.wireLimits || opts.ignoreCase)) {
        throw new CliError(
          "usage",
          `--chunk cannot be combined with ${opts.wireLimits ? "--wire-limits (parts are always what the host receives whole)" : "--ignore-case (parts are matched exactly)"}`,
          hint,
        );
      }
      let records;
      if (opts.fromFile !== void 0) {
        if (key !== void 0) throw new CliError("usage", "give either KEY VALUE or --from-file, not both", hint);
        records = await readPairsInput(opts.fromFile, ctx, hint);
      } else if (key === void 0 || value === void 0) {
        throw new CliError(
          "usage",
          key === void 0
            ? "missing KEY and VALUE"
            : `missing VALUE for ${JSON.stringify(key)} (use "" for an empty value)`,
          hint,
        );
      } else {
        records = [{ key, value }];
      }
      const outcomes = await set(records, {
        ...globals(),
        pool,
        ...(opts.wireLimits ? { wireLimits: true } : {}),
        ...(opts.ignoreCase ? { ignoreCase: true } : {}),
        ...(opts.create ? { create: true } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(opts.chunk ? { chunk: true } : {}),
      }).catch((error) => {
        throw opts.wireLimits ? error : explainRefusal(error, records, run.tool);
      });
      if (opts.json) run.json(outcomes);
    });

// src/commands/watch.ts
function watch2(options) {
  const pools = (options.pools ?? ALL_POOLS).filter((p) => p.number !== 2);
  const now = options.now ?? (() => /* @__PURE__ */ new Date());
  const unsettled = new Set(pools.map((p) => p.number));
  const settle = (pool) => {
    if (unsettled.delete(pool.number) && unsettled.size === 0) options.onReady?.();
  };
  const watches = pools.map((pool) =>
    watchPool(poolTarget(pool, options.dir), {
      signal: options.signal,
      ...(options.timeoutMs === void 0 ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.debounceMs === void 0 ? {} : { debounceMs: options.debounceMs }),
      reassemble: options.raw !== true,
      onChunkProblems: (problems) => {
        for (const note of watchChunkNotes(pool.number, problems)) options.onNote?.(note);
      },
      onReady: () => settle(pool),
      onError: (error) => {
        options.onProblem(pool, error);
        settle(pool);
      },
      onChange: (changes) => {
        const time = now().toISOString();
        for (const change of changes) options.onEvent({ time, pool: pool.number, poolName: pool.name, ...change });
      },
    }),
  );
  return new Promise((resolve) => {
    const stop = () => {
      for (const w of watches) w.close();
      resolve();
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener("abort", stop, { once: true });
  });
}
var watchCommand = (program2, { run, ctx, globals }) =>
  program2
    .command("watch")
    .description(
      "print changes (added, changed, removed keys) as they happen, until interrupted; chunked values as one key",
    )
    .option("--pool <pool>", `${POOL_HELP} (default: every pool with a file)`)
    .option("--raw", "report stored records as they are: each part KEY#i/N of a chunked value is a key of its own")
    .option("--json", "one JSON object per change and line (NDJSON), shape below")
    .addHelpText(
      "after",
      `
A value stored as parts KEY#1/N \u2026 KEY#N/N is reported as KEY, one change per value, with parts: N.
Parts that cannot be reassembled (one missing, e.g. while a writer adds them one by one; two
splits mixed) are never reported as a value: KEY keeps its last reported value until its parts
are whole (then added/changed) or all gone (then removed), and a note on stderr says so once.

With --json, one object per line:
  {"time":"2026-11-21T07:01:02.345Z","pool":1,"poolName":"guest","type":"changed","key":"report",
   "value":"\u2026","previous":"\u2026","index":4,"parts":3}
type is added, changed or removed; value is absent for removed, previous only for changed and
removed, parts only for a reassembled value; index is the record's position in the pool (a
reassembled value's first part). Notes and problems go to stderr, never into the stream.`,
    )
    .action(async (opts) => {
      const pools = opts.pool !== void 0 ? [parsePoolOption(opts.pool, "watch")] : void 0;
      await watch2({
        ...globals(),
        ...(pools ? { pools } : {}),
        ...(opts.raw ? { raw: true } : {}),
        signal: run.signal,
        onEvent: (event) =>
          ctx.stdout.write(
            opts.json
              ? `${JSON.stringify(event)}
`
              : formatEvent(event),
          ),
        onProblem: (_pool, error) =>
          ctx.stderr.write(`${run.tool}: ${error.message}
`),
        onNote: (note) => run.note(note),
        onReady: () =>
          ctx.stderr.write(`${run.tool}: watching; Ctrl-C stops
`),
      });
    });

// src/context.ts
function processContext() {
  return {
    ...processIo(),
    readStdin: async () => {
      const chunks = [];
      for await (const chunk of process.stdin) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
  };
}

// src/version.ts
var VERSION = "0.0.0";

// src/main.ts
var TOOL = "kvp-pool";
var EXAMPLES = `
Examples:
  kvp-pool list                          every pool, as the guest sees it
  kvp-pool get cloudstack-vm-userdata --pool external
  kvp-pool set ReadyState ready          tell the host (pool 1, guest)
  kvp-pool set --from-file report.env    many KEY=VALUE lines, one lock
  kvp-pool set --chunk --from-file big.json   long values as parts KEY#1/N \u2026 KEY#N/N
  kvp-pool get report                    a chunked value, reassembled (--raw: as stored)
  kvp-pool delete ReadyState             (remove is the same command)
  kvp-pool check --all-pools --json
  kvp-pool watch --pool external --json  NDJSON, one change per line

Values longer than the host receives whole (1022 UTF-16 units) can be stored with --chunk as
parts KEY#1/N \u2026 KEY#N/N, each whole for the host; list, get, watch and delete treat them as
KEY (--raw: the stored records).
Pools live in /var/lib/hyperv unless --dir or $KVP_POOL_DIR says otherwise.
With --json, a failure also prints {"error":{"code","message","exitCode"}} on stdout.
Exit codes: 0 ok, 1 not found / problems found, 2 usage, 3 IO or lock failure.`;
var POOL_ERRORS = [
  errorsByCode(isPoolFileError, { "not-found": 1, invalid: 2, refused: 2 }, 3),
  errorsByCode(isKvpError, {}, 2),
];
function main(argv, ctx = processContext()) {
  return runCli(
    {
      tool: TOOL,
      version: VERSION,
      description: "Read, write, delete, check and watch Hyper-V KVP pool records, safely beside hv_kvp_daemon.",
      configure: (program2) =>
        program2
          .option("--dir <dir>", "pool directory (default: $KVP_POOL_DIR, else /var/lib/hyperv)")
          .option(
            "--timeout <duration>",
            "longest wait for a pool lock: 500ms, 5s, 1m (default 5s; a bare number is milliseconds, deprecated)",
          )
          .addHelpText("after", EXAMPLES),
      context: (run, program2) => ({
        run,
        ctx,
        globals: () => {
          const opts = program2.opts();
          return {
            ...(opts.dir !== void 0 ? { dir: opts.dir } : {}),
            ...(opts.timeout !== void 0
              ? {
                  timeoutMs: run.duration(opts.timeout, {
                    option: "--timeout",
                    bareUnit: "ms",
                    hint: `${TOOL} --help`,
                  }),
                }
              : {}),
          };
        },
      }),
      commands: [listCommand, getCommand, setCommand, deleteCommand, checkCommand, watchCommand],
      errors: POOL_ERRORS,
    },
    argv,
    ctx,
  );
}

// src/bin.ts
launch((argv) => main(argv));
