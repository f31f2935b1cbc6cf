#pragma once
/// @file cli.hpp
/// The `therasim` command line: run, merge, validate, params, compare, report. A model's executable is
/// `int main(int argc, char** argv) { return sim::cli_main(argc, argv, factory); }`.

#include "sim/model.hpp"

namespace sim {

/// Exit codes.
inline constexpr int EXIT_OK = 0;
inline constexpr int EXIT_RUN_FAILED = 1;     ///< a run or its output failed
inline constexpr int EXIT_INVALID_INPUT = 2;  ///< bad scenario or command line

/// Runs the command line. Never throws; returns the process exit code.
int cli_main(int argc, char** argv, const ModelFactory& factory);

/// Prints the end-of-replicate metrics of a results file (if it has any) with their mean and
/// 2.5% and 97.5% quantiles across replicates. @throws RunError if the file cannot be read
void print_metrics(std::ostream& out, const std::string& path);

/// @return the parameter reference as a Markdown document (name, default, unit, range, meaning, source).
std::string parameter_reference(const Schema& schema);

/// @return the Markdown table of the parameters under @p prefix ("relapse", "dialog.rollout"), or "" if none.
std::string parameter_table(const Schema& schema, const std::string& prefix);

}  // namespace sim
