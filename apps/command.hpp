// Subcommand registry: each cmd_<name>.cpp registers itself with a static RegisterCommand, so
// adding a command touches no shared file. main.cpp builds the CLI11 tree from the registry.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace moodboost::app {

/// Runs a parsed subcommand; returns the process exit code.
using CommandRunner = std::function<int()>;

/// One subcommand: its name, one-line description, position in `moodboost --help`, and a setup
/// function that declares its options on the CLI11 subcommand and returns the runner (which
/// reads the parsed values captured by the setup function).
struct CommandSpec {
  std::string name;
  std::string description;
  int order = 100;
  std::function<CommandRunner(CLI::App&)> setup;
};

/// Registers a subcommand at static-initialisation time.
struct RegisterCommand {
  explicit RegisterCommand(CommandSpec spec);
};

/// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;          ///< bad input data, failed computation
inline constexpr int kExitUsage = 2;          ///< bad command line or option values
inline constexpr int kExitInterrupted = 130;  ///< SIGINT: finished work is kept, rerun to resume

}  // namespace moodboost::app
