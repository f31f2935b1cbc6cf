#pragma once
/// @file scenario.hpp
/// Loading and validating scenario YAML: `extends:` chains, `--set` overrides, and checks of
/// every key, type and range against the model's declarations before any work is done.

#include "sim/params.hpp"
#include "sim/schema.hpp"
#include "sim/sweep.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sim {

/// A loaded, validated scenario.
struct Scenario {
    std::string name;         ///< `name:` of the scenario, or the file stem
    std::string description;  ///< `description:`
    std::string path;         ///< the file given by the user
    std::vector<std::string> chain;  ///< files read, base first (the given file last)
    Params params;            ///< every declared parameter, validated
    std::optional<Sweep> sweep;  ///< the `sweep:` block with its design, or the `psa:` block's (design "psa")
    /// psa: the overrides that make the comparator (applied at the points of role 1)
    std::vector<std::pair<std::string, Value>> comparator;

    /// @return the runs of the scenario: its replicates, at every sweep point (point-major:
    /// run r is point r / replicates, replicate r % replicates).
    [[nodiscard]] std::size_t runs() const;
    /// @return the scenario of sweep point @p point: these parameters with the swept ones set
    /// (each located at its entry in the `sweep:` block). @throws std::logic_error without a sweep
    [[nodiscard]] Scenario at_point(std::size_t point) const;

    /// @return the whole resolved scenario as YAML: running it gives the same results.
    [[nodiscard]] std::string resolved_yaml(const Schema& schema) const;
};

/// Limits that keep hostile files from exhausting memory or time.
inline constexpr std::size_t MAX_SCENARIO_BYTES = 1 << 20;  ///< 1 MiB per file
inline constexpr int MAX_NESTING = 32;                      ///< mapping/sequence depth
inline constexpr std::size_t MAX_NODES = 100000;            ///< nodes visited per file
inline constexpr int MAX_EXTENDS = 16;                      ///< length of an `extends:` chain

/// Loads @p path (and the files it extends), applies @p overrides ("key.path=value"), and
/// validates everything against @p schema.
/// @throws UnreadableScenario missing file, directory, empty, not UTF-8, YAML syntax error, too large
/// @throws UnknownKey a key no parameter declares (the message suggests the nearest valid key)
/// @throws WrongType a value of the wrong type
/// @throws OutOfRange a value outside its range or choices
/// @throws InconsistentScenario an `extends:` cycle or too long a chain
Scenario load_scenario(const Schema& schema, const std::string& path, const std::vector<std::string>& overrides = {});

/// Loads a scenario from YAML text (for tests and tools); @p name_for_errors stands in for a file name.
/// `extends:` paths are resolved relative to @p base_dir.
Scenario load_scenario_text(const Schema& schema, const std::string& yaml, const std::string& name_for_errors,
                            const std::vector<std::string>& overrides = {}, const std::string& base_dir = ".");

/// @return the keys of @p candidates closest to @p key by edit distance (for "did you mean").
std::vector<std::string> nearest_keys(const std::string& key, const std::vector<std::string>& candidates);

}  // namespace sim
