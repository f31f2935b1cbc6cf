#pragma once
/// @file errors.hpp
/// Typed exceptions. User input errors are thrown at load time, never mid-run.

#include <stdexcept>
#include <string>

namespace sim {

/// Where a value came from: a file and line, or a command-line override.
struct Location {
    std::string file;  ///< scenario file path, or "--set" for overrides, or "" if unknown
    int line = 0;      ///< 1-based line, 0 if unknown
    /// "file:line" or "file" or "(default)".
    [[nodiscard]] std::string str() const {
        if (file.empty()) return "(default)";
        return line > 0 ? file + ":" + std::to_string(line) : file;
    }
};

/// Base of every error in a scenario or in command-line input; the CLI exits with code 2.
class InputError : public std::runtime_error {
public:
    /// @param where where the bad input is
    /// @param key   dotted key path, may be empty
    /// @param what  what is wrong and what was expected
    InputError(Location where, std::string key, const std::string& what)
        : std::runtime_error(format(where, key, what)), where_(std::move(where)), key_(std::move(key)), detail_(what) {}
    [[nodiscard]] const Location& where() const noexcept { return where_; }
    [[nodiscard]] const std::string& key() const noexcept { return key_; }
    /// What is wrong, without the location and key.
    [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

private:
    static std::string format(const Location& w, const std::string& key, const std::string& what) {
        std::string s = w.str() + ": ";
        if (!key.empty()) s += "key '" + key + "': ";
        return s + what;
    }
    Location where_;
    std::string key_;
    std::string detail_;
};

/// The scenario file cannot be read or is not valid YAML.
class UnreadableScenario : public InputError { using InputError::InputError; };
/// A key that no declared parameter has.
class UnknownKey : public InputError { using InputError::InputError; };
/// A value of the wrong type (a string where a number is expected, a list where a map is...).
class WrongType : public InputError { using InputError::InputError; };
/// A value outside its declared range, or not one of its allowed choices.
class OutOfRange : public InputError { using InputError::InputError; };
/// Values that are each valid but impossible together.
class InconsistentScenario : public InputError { using InputError::InputError; };
/// The run would need more memory (or other resources) than the machine has.
class ResourceLimit : public InputError { using InputError::InputError; };
/// A bad command line (unknown option, missing argument).
class UsageError : public InputError {
public:
    explicit UsageError(const std::string& what) : InputError(Location{"command line", 0}, "", what) {}
};

/// A failure while running or writing results; the CLI exits with code 1.
class RunError : public std::runtime_error { using std::runtime_error::runtime_error; };
/// The run was stopped by SIGINT or SIGTERM.
class Interrupted : public RunError {
public:
    /// @param detail what was kept, e.g. where a resumable partial file is
    explicit Interrupted(int signal, const std::string& detail = "")
        : RunError("interrupted by signal " + std::to_string(signal) + (detail.empty() ? "" : "; " + detail)), signal_(signal) {}
    [[nodiscard]] int signal() const noexcept { return signal_; }

private:
    int signal_;
};

}  // namespace sim
