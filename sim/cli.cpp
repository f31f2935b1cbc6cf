#include "sim/cli.hpp"

#include "sim/compare.hpp"

#include "sim/ensemble.hpp"
#include "sim/errors.hpp"
#include "sim/h5.hpp"
#include "sim/simulation.hpp"
#include "sim/version.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace sim {

namespace {

/// @p s with terminal control characters (bytes below 0x20 but newline and tab, and 0x7f) shown
/// as \xNN, so that a name or value from a file cannot drive the terminal.
std::string printable(const std::string& s) {
    std::string out;
    for (const unsigned char c : s) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}


volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int sig) { g_stop = sig; }

const char* const USAGE = R"(therasim: agent-based simulation of therapeutic relationships in community mental healthcare

Usage:
  therasim run SCENARIO -o FILE [options]   run a scenario and write HDF5 results
                                            (--shard K/N: one of N shards, for many machines)
  therasim merge -o FILE PART...            merge the N shards' files into the run's results
  therasim validate SCENARIO [--set k=v]... check a scenario without running it
  therasim params                           print the parameter reference (Markdown)
  therasim compare A.h5 [A2.h5 ...] [B.h5]  yearly outcomes; with several files, what each
                                            changes against the last (paired, findings first)
  therasim report RUN.h5 [--compare B.h5] -o report.html [--overwrite]
                                            one self-contained HTML report: findings first,
                                            costs (discounted), figures, provenance, caveats
  therasim story RUN.h5 --patient N [--compare B.h5] [--events-only]
                                            one traced patient's weeks: contact, adherence,
                                            STAR-P, symptoms, needs, quality of life, events
  therasim --version
  therasim COMMAND --help                   help on one command

Exit codes: 0 success, 1 run or output failure, 2 invalid input, 130/143 interrupted.
)";

const char* const RUN_HELP = R"(therasim run SCENARIO -o FILE [options]

Runs SCENARIO and writes its results to FILE (HDF5; layout in docs/output.md). The file is
written to a temporary name and renamed when complete, so an interrupted or failed run never
leaves a file that looks like a result.

Options:
  -o, --output FILE     results file (required)
  --threads N           worker threads (default: all cores); results do not depend on N
  --seed N              random seed (same as --set seed=N)
  --replicates N        run N replicates (same as --set replicates=N); the file keeps every
                        replicate and their mean and 2.5/50/97.5% quantiles
  --set KEY=VALUE       override a scenario parameter, validated like the file (repeatable)
  --overwrite           replace FILE if it exists
  --check-invariants    check every attribute's range and NaN after every step (slow)
  --quiet               no progress bar or summary
  --shard K/N           run only the runs r (replicates x sweep points or psa draws, in the
                        order of the results file) with r mod N = K, K from 0 to N-1, into a
                        shard's file; `therasim merge` joins the N files into the run's results
                        (docs/cluster.md). A failed or interrupted shard resumes like any run:
                        rerun the same command
)";

const char* const MERGE_HELP = R"(therasim merge -o FILE PART... [--overwrite]

Merges the files of the N shards of one run (`therasim run SCENARIO -o PART --shard K/N` for
K = 0..N-1), given in any order, into FILE: the file one `therasim run SCENARIO -o FILE` writes,
every dataset the same, apart from the start and wall times and the list of shards in
/provenance@merged_shards. FILE is written under a temporary name, flushed and renamed; an
existing FILE is never replaced unless --overwrite.

Refused with exit 2 and the reason, before anything is written: an input that is not a complete
shard's file (a whole result, a part of an unfinished run, an incomplete or damaged file),
shards that overlap (the same K twice) or leave gaps (a K missing), different N, and shards of
different runs (resolved scenario, seed) or builds (version, commit, results layout), or of a
build other than this one. See docs/cluster.md.

Options:
  -o, --output FILE     merged results file (required)
  --overwrite           replace FILE if it exists
)";

const char* const VALIDATE_HELP = R"(therasim validate SCENARIO [--set KEY=VALUE]... [--print]

Loads SCENARIO (and every file it extends), applies overrides, and checks every key, type,
range and combination, the step count, and the memory the run would need. Prints "ok" with the
estimated peak memory (at --threads N; default all cores), or the first error with its file,
line and key. --print writes the fully resolved scenario as YAML.
)";

const char* const PARAMS_HELP = R"(therasim params [--section PREFIX]

Prints the parameter reference: every scenario key with its default, unit, allowed range,
meaning and literature source, as Markdown (docs/parameters.md is this output). With
--section, prints only the table of the keys under PREFIX (e.g. relapse, dialog.rollout);
docs/model.md embeds such tables.
)";

const char* const COMPARE_HELP = R"(therasim compare A.h5 [A2.h5 ...] B.h5 [options]
therasim compare RUN.h5

With one file, prints its headline outcomes per year and over the whole horizon (levels at the
end of the period, events summed over it), averaged over replicates.

With several, the last file is the comparator B (for example the same services without
DIALOG) and each other file an intervention. Replicate r of an intervention is paired with
replicate r of B: runs with the same seed share every random number the intervention does not
change (common random numbers), so the paired difference is the intervention's effect. It
prints first the findings over the horizon in sentences, with 95% intervals of the paired
differences (simulation noise only), the net cost (all cost series), discounted and not, the
break-even year and whether the intervention is dominant or what it costs per event avoided;
then the table by year: each run's mean, A - B and its 2.5% and 97.5% quantiles.

Runs that cannot be paired (different seeds, numbers of replicates, populations, horizons or
step lengths) are refused with exit 2 and the reason.

Options:
  --unpaired         compare runs that cannot be paired: differences of means, labelled
                     unpaired, with no interval
  --discount RATE    annual discount rate of the discounted net cost and the cost per event
                     avoided (default 0.035, the NICE reference case); year y is divided by
                     (1 + RATE)^(y - 1)
  --population N     scale counts, costs and numbers of patients to N patients (national
                     totals, e.g. 300000 for a 20,000-patient run of England); means stay
  --csv FILE         also write every figure of the table to FILE (CSV, one value per row)
  --overwrite        let --csv replace an existing FILE
)";

struct Args {
    std::vector<std::string> positional;
    std::vector<std::string> sets;
    std::string output;
    unsigned threads = 0;
    std::string section, csv, discount, population, shard;
    bool unpaired = false;
    bool overwrite = false, quiet = false, help = false, check = false, print = false;
};

unsigned parse_unsigned(const std::string& opt, const std::string& v, unsigned long max) {
    std::size_t pos = 0;
    unsigned long n = 0;
    try {
        n = std::stoul(v, &pos);
    } catch (...) {
        pos = 0;
    }
    if (pos != v.size() || v.empty() || v[0] == '-' || n > max)
        throw UsageError(opt + " expects a whole number up to " + std::to_string(max) + ", got '" + v + "'");
    return static_cast<unsigned>(n);
}

/// The options of each command (those not listed are refused, not silently ignored).
const std::map<std::string, std::vector<std::string>>& command_options() {
    static const std::map<std::string, std::vector<std::string>> options{
        {"run", {"-o", "--threads", "--seed", "--replicates", "--set", "--overwrite", "--quiet", "--check-invariants", "--shard"}},
        {"merge", {"-o", "--overwrite", "--quiet"}},
        {"validate", {"--threads", "--seed", "--replicates", "--set", "--print"}},
        {"params", {"--section"}},
        {"compare", {"--unpaired", "--discount", "--population", "--csv", "--overwrite"}},
    };
    return options;
}

/// @throws UsageError if @p given (an option as given; "--output" is "-o") is not one of
/// @p command's; @p next is the word after it (its value, if it takes one).
void check_option(const std::string& command, const std::string& given, const std::string& next) {
    const std::string option = given == "--output" ? "-o" : given.rfind("--set=", 0) == 0 ? "--set" : given;
    const auto& all = command_options();
    const auto it = all.find(command);
    if (it == all.end() || std::find(it->second.begin(), it->second.end(), option) != it->second.end()) return;
    std::string owners;
    for (const auto& [cmd, opts] : all)
        if (std::find(opts.begin(), opts.end(), option) != opts.end()) owners += (owners.empty() ? "" : ", ") + cmd;
    if (owners.empty()) return;  // no command's: the parser calls it unknown
    std::string m = given + " is not an option of " + command + " (it is one of " + owners + ")";
    if (command == "run" && option == "--population")
        m += "; to simulate another number of patients use --set population.n_patients=" + next;
    throw UsageError(m + "; see therasim " + command + " --help");
}

Args parse(int argc, char** argv, int first, const std::string& command) {
    Args a;
    for (int i = first; i < argc; ++i) {
        const std::string s = argv[i];
        if (s.size() > 1 && s[0] == '-' && s != "-h" && s != "--help") check_option(command, s, i + 1 < argc ? argv[i + 1] : "N");
        auto value = [&](const std::string& opt) -> std::string {
            if (i + 1 >= argc) throw UsageError(opt + " needs a value");
            return argv[++i];
        };
        if (s == "-h" || s == "--help") a.help = true;
        else if (s == "-o" || s == "--output") a.output = value(s);
        else if (s == "--threads") {
            a.threads = parse_unsigned(s, value(s), 1024);
            if (a.threads == 0) throw UsageError("--threads must be at least 1");
        } else if (s == "--seed") a.sets.push_back("seed=" + std::to_string(parse_unsigned(s, value(s), 4294967295ul)));
        else if (s == "--replicates") a.sets.push_back("replicates=" + std::to_string(parse_unsigned(s, value(s), 100000)));
        else if (s == "--set") a.sets.push_back(value(s));
        else if (s.rfind("--set=", 0) == 0) a.sets.push_back(s.substr(6));
        else if (s == "--overwrite") a.overwrite = true;
        else if (s == "--unpaired") a.unpaired = true;
        else if (s == "--csv") a.csv = value(s);
        else if (s == "--discount") a.discount = value(s);
        else if (s == "--population") a.population = value(s);
        else if (s == "--quiet") a.quiet = true;
        else if (s == "--check-invariants") a.check = true;
        else if (s == "--print") a.print = true;
        else if (s == "--section") a.section = value(s);
        else if (s == "--shard") a.shard = value(s);
        else if (!s.empty() && s[0] == '-') throw UsageError("unknown option '" + s + "'; see --help");
        else a.positional.push_back(s);
    }
    return a;
}

void need_positional(const Args& a, std::size_t n, const char* what) {
    if (a.positional.size() != n) throw UsageError(std::string("expected ") + what + "; see --help");
}

std::string fmt(double v) {
    if (std::isnan(v)) return "n/a";
    std::ostringstream s;
    const double a = std::fabs(v);
    if (a >= 1e5) s << std::fixed << std::setprecision(0) << v;
    else if (a >= 100) s << std::fixed << std::setprecision(1) << v;
    else s << std::fixed << std::setprecision(3) << v;
    return s.str();
}

int cmd_run(const Args& a, const ModelFactory& factory) {
    if (a.help) {
        std::cout << RUN_HELP;
        return EXIT_OK;
    }
    need_positional(a, 1, "one SCENARIO file");
    auto model = factory();
    const Schema schema = make_schema(*model);
    const Scenario sc = load_scenario(schema, a.positional[0], a.sets);
    check_output_path(a.output, a.overwrite, sc.chain);
    std::optional<Shard> shard;
    if (!a.shard.empty()) {
        shard = parse_shard(a.shard);
        if (shard->count > sc.runs())
            throw UsageError("--shard " + a.shard + ": the scenario has " + std::to_string(sc.runs()) + " run(s), fewer than " +
                             std::to_string(shard->count) + " shards; use at most " + std::to_string(sc.runs()) + " shards");
    }
    if (sc.sweep && !a.quiet && sc.sweep->points() >= 1000)
        std::cerr << "therasim: checking the " << sc.sweep->points() << " sweep points\n";
    preflight(*model, sc, a.threads);

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    // Past a file-size limit (ulimit -f) a write should fail with an error we report, not kill us.
    std::signal(SIGXFSZ, SIG_IGN);
    EnsembleOptions opt;
    opt.threads = a.threads;
    opt.progress = !a.quiet;
    opt.stop = &g_stop;
    opt.check_invariants = a.check;
    opt.overwrite = a.overwrite;
    opt.shard = shard;
    const auto replicates = sc.params.integer("replicates");
    if (!a.quiet)
        std::cerr << "therasim: running " << printable(sc.name) << " (" << a.positional[0] << ")"
                  << (replicates > 1 ? ", " + std::to_string(replicates) + " replicates" : "")
                  << (!sc.sweep ? ""
                      : sc.sweep->design == "psa"
                          ? " for each of " + std::to_string(sc.sweep->samples) + " parameter draws, with its comparator"
                          : " at each of " + std::to_string(sc.sweep->points()) + " sweep points")
                  << (shard ? "; shard " + shard->text() + ": " + std::to_string(shard->runs(sc.runs()).size()) + " of the " +
                                  std::to_string(sc.runs()) + " runs"
                            : "")
                  << "\n";
    const EnsembleInfo info = run_ensemble(factory, schema, sc, a.output, opt);
    if (!a.quiet) {
        // Throughput counts the runs stepped here: a resumed command only assembles what an
        // interrupted one kept.
        const double agent_steps = static_cast<double>(info.agents) * info.n_steps * static_cast<double>(info.ran);
        const std::size_t kept = info.replicates - info.ran;
        std::ostringstream m;
        m << std::fixed << std::setprecision(2) << "therasim: ";
        const std::string runs = std::to_string(info.ran) + " x " + std::to_string(info.n_steps) + " steps of " +
                                 std::to_string(info.agents) + " " + info.agent_type + "s" +
                                 (kept ? " (" + std::to_string(kept) + " more run(s) kept by an interrupted command)" : "");
        if (info.ran == 0)
            m << "all " << info.replicates << " run(s) kept by an interrupted command, none run again; assembled in "
              << info.wall_seconds << " s";
        else if (info.ran == 1)  // where the time went: setup, burn-in, stepping, then the results' writing
            m << runs << ", stepping " << info.step_seconds << " s (" << agent_steps / info.step_seconds / 1e6 << " M "
              << info.agent_type << "-steps/s; setup " << info.run_seconds - info.burn_in_seconds - info.step_seconds
              << " s, burn-in " << info.burn_in_seconds << " s, results " << info.wall_seconds - info.run_seconds << " s; "
              << info.wall_seconds << " s in all)";
        else  // runs overlap on several threads: their stepping times add up to more than the wall time
            m << runs << " in " << info.wall_seconds << " s (" << agent_steps / info.wall_seconds / 1e6 << " M " << info.agent_type
              << "-steps/s over the wall time; stepping " << info.step_seconds << " s summed over the runs)";
        m << " on " << info.threads << " threads; peak memory " << peak_rss() / (1u << 20) << " MiB; wrote " << a.output << "\n";
        std::cerr << m.str();
        if (shard) {
            // A shard's file is not a result: the summary and tables come from the merged file.
            std::cout << "shard " << shard->text() << ": " << info.replicates << " of " << sc.runs() << " runs in " << a.output
                      << "\nmerge: therasim merge -o FILE.h5 PART... (all " << shard->count << " shards; see docs/cluster.md)\n";
            return EXIT_OK;
        }
        if (sc.sweep) {
            // Pooled over the design, the yearly table would mix parameter values; say what to run.
            const Sweep& s = *sc.sweep;
            if (s.design == "psa")
                std::cout << "psa: " << s.samples << " draws of " << s.k() << " uncertain parameters, each run for the intervention "
                          << "and its comparator, " << replicates << " replicate" << (replicates == 1 ? "" : "s") << " each = "
                          << sc.runs() << " runs in " << a.output << "\nanalysis: python3 -m therasim_analysis psa " << a.output
                          << " [--population PATIENTS] (PYTHONPATH=analysis; see analysis/README.md)\n";
            else
            std::cout << "sweep: " << s.design << " design over " << s.k() << " parameters, " << s.points() << " points x "
                      << replicates << " replicates = " << sc.runs() << " runs in " << a.output
                      << "\nindices: python3 -m therasim_analysis sensitivity " << a.output
                      << " --outcome SERIES|metric:NAME (PYTHONPATH=analysis; see analysis/README.md)\n";
        } else {
            if (const std::string status = model->calibration_status(schema, sc.params); !status.empty())
                std::cout << status << "\n";
            CompareOptions summary;
            summary.files = {a.output};
            print_comparison(std::cout, summary);
            print_metrics(std::cout, a.output);
        }
    }
    return EXIT_OK;
}

int cmd_merge(const Args& a, const ModelFactory& factory) {
    if (a.help) {
        std::cout << MERGE_HELP;
        return EXIT_OK;
    }
    if (a.positional.empty()) throw UsageError("merge expects the shard files (PART...); see --help");
    auto model = factory();
    merge_shards(make_schema(*model), a.positional, a.output, a.overwrite);
    if (!a.quiet) std::cerr << "therasim: merged " << a.positional.size() << " shard files into " << a.output << "\n";
    return EXIT_OK;
}

int cmd_validate(const Args& a, const ModelFactory& factory) {
    if (a.help) {
        std::cout << VALIDATE_HELP;
        return EXIT_OK;
    }
    need_positional(a, 1, "one SCENARIO file");
    auto model = factory();
    const Schema schema = make_schema(*model);
    const Scenario sc = load_scenario(schema, a.positional[0], a.sets);
    preflight(*model, sc, a.threads);
    if (a.print) {
        std::cout << sc.resolved_yaml(schema);
    } else {
        const MemoryEstimate e = estimate_memory(*model, schema, sc, a.threads);
        std::cout << "ok: " << printable(a.positional[0]) << " (" << printable(sc.name) << "); estimated peak memory "
                  << (e.total() + (1u << 19)) / (1u << 20) << " MiB (" << e.in_flight << " run(s) at once)\n";
    }
    return EXIT_OK;
}

int cmd_params(const Args& a, const ModelFactory& factory) {
    if (a.help) {
        std::cout << PARAMS_HELP;
        return EXIT_OK;
    }
    auto model = factory();
    const Schema schema = make_schema(*model);
    if (a.section.empty()) {
        std::cout << parameter_reference(schema);
        return EXIT_OK;
    }
    const std::string table = parameter_table(schema, a.section);
    if (table.empty()) throw UsageError("no parameters under '" + a.section + "'");
    std::cout << table;
    return EXIT_OK;
}

int cmd_compare(const Args& a, const ModelFactory& factory) {
    if (a.help) {
        std::cout << COMPARE_HELP;
        return EXIT_OK;
    }
    if (a.positional.empty()) throw UsageError("compare expects one or more result files; see --help");
    CompareOptions opt;
    opt.files = a.positional;
    opt.price_year_parameter = make_schema(*factory()).price_year_parameter();
    opt.unpaired = a.unpaired;
    opt.csv = a.csv;
    opt.overwrite = a.overwrite;
    if (!a.discount.empty()) {
        std::size_t pos = 0;
        try {
            opt.discount_rate = std::stod(a.discount, &pos);
        } catch (...) {
            pos = 0;
        }
        if (pos != a.discount.size() || a.discount.empty())
            throw UsageError("--discount expects an annual rate from 0 to 1 (0.035 is 3.5%), got '" + a.discount + "'");
    }
    if (!a.population.empty()) {
        std::size_t pos = 0;
        long long n = 0;
        try {
            n = std::stoll(a.population, &pos);
        } catch (...) {
            pos = 0;
        }
        if (pos != a.population.size() || a.population.empty() || n < 1 || n > 1000000000)
            throw UsageError("--population expects a number of patients from 1 to 1000000000 (e.g. 300000), got '" +
                             a.population + "'");
        opt.population = static_cast<double>(n);
    }
    print_comparison(std::cout, opt);
    return EXIT_OK;
}

std::string escape_cell(std::string s) {
    for (std::size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
    return s;
}

}  // namespace

namespace {

std::string number_cell(double v) {
    std::ostringstream o;
    o.precision(12);
    o << v;
    return o.str();
}

std::string range_cell(const ParamSpec& p) {
    switch (p.type) {
        case ParamType::real:
        case ParamType::integer:
            if (std::isinf(p.min) && std::isinf(p.max)) return "any";
            return std::string(p.min_open ? "(" : "[") + (std::isinf(p.min) ? "-inf" : number_cell(p.min)) + ", " +
                   (std::isinf(p.max) ? "inf" : number_cell(p.max)) + "]";
        case ParamType::boolean: return "true/false";
        case ParamType::choice: {
            std::string s;
            for (const auto& c : p.choices) s += (s.empty() ? "" : ", ") + c;
            return s;
        }
        case ParamType::text: return "text";
        case ParamType::table: return "list of records";
    }
    return "";
}

const char* const TABLE_HEAD = "| Name | Default | Unit | Range | Meaning | Source | Uncertainty (PSA) |\n|---|---|---|---|---|---|---|\n";

std::string row(const ParamSpec& p, const std::string& name, bool field) {
    const std::string def = p.type == ParamType::table ? "see below" : (field && p.default_yaml.empty() ? "(required)" : p.default_yaml);
    return "| `" + name + "` | " + escape_cell(def) + " | " + escape_cell(p.unit) + " | " + escape_cell(range_cell(p)) + " | " +
           escape_cell(p.label) + " | " + escape_cell(p.source) + " | " +
           escape_cell(p.uncertainty.drawn() ? p.uncertainty.text() : "") + " |\n";
}

/// Rows of @p params; a table parameter closes the table, lists its fields and reopens it.
std::string rows(const std::vector<const ParamSpec*>& params) {
    std::string o = TABLE_HEAD;
    for (const ParamSpec* p : params) {
        o += row(*p, p->path, false);
        if (p->type != ParamType::table) continue;
        o += "\n`" + p->path + "` is a list of records with fields:\n\n| Field | Default | Unit | Range | Meaning | Source | Uncertainty (PSA) |\n"
             "|---|---|---|---|---|---|---|\n";
        for (const auto& f : p->fields) o += row(f, f.path, true);
        o += "\nDefault:\n\n```yaml\n" + p->default_yaml + "\n```\n";
        if (p != params.back()) o += std::string("\n") + TABLE_HEAD;
    }
    return o;
}

}  // namespace

std::string parameter_table(const Schema& schema, const std::string& prefix) {
    std::vector<const ParamSpec*> sel;
    for (const auto& p : schema.params())
        if (p.path == prefix || p.path.rfind(prefix + ".", 0) == 0) sel.push_back(&p);
    return sel.empty() ? "" : rows(sel);
}

std::string parameter_reference(const Schema& schema) {
    std::string o =
        "# Parameter reference\n\n"
        "Generated by `therasim params`; do not edit by hand. Every key can be set in a scenario\n"
        "file (nested as YAML sections) or on the command line with `--set key=value`. A source of\n"
        "`guess` marks a value chosen for plausibility, not taken from the literature. *Uncertainty\n"
        "(PSA)* is the distribution a probabilistic sensitivity analysis (a scenario's `psa:` block)\n"
        "draws the parameter from, centred on the scenario's value; `guess` marks a width chosen\n"
        "without a published interval. The block can change or fix any of them.\n";
    std::vector<std::string> sections;
    for (const auto& p : schema.params()) {
        const auto dot = p.path.find('.');
        const std::string sec = dot == std::string::npos ? "" : p.path.substr(0, dot);
        if (std::find(sections.begin(), sections.end(), sec) == sections.end()) sections.push_back(sec);
    }
    for (const auto& sec : sections) {
        std::vector<const ParamSpec*> sel;
        for (const auto& p : schema.params()) {
            const auto dot = p.path.find('.');
            if ((dot == std::string::npos ? "" : p.path.substr(0, dot)) == sec) sel.push_back(&p);
        }
        o += "\n## " + (sec.empty() ? std::string("(top level)") : sec) + "\n\n" + rows(sel);
    }
    return o;
}

void print_metrics(std::ostream& out, const std::string& path) {
    const ResultsFile f(path);
    const auto names = f.names("/summary/metrics");
    if (names.empty()) return;
    // Metrics a run did not compute (NaN in every replicate) are not printed.
    std::vector<std::string> ordered;
    for (const auto& n : names)
        if (!std::isnan(f.read_numbers("/summary/metrics/" + n)[0])) ordered.push_back(n);
    if (ordered.empty()) return;
    const auto has = [&](const std::string& n) { return std::find(ordered.begin(), ordered.end(), n) != ordered.end(); };
    // A metric X with X_lo and X_hi (its 95% limits in each replicate) is one row, the limits'
    // means beside its own: a trial's effect reads as "d [lo, hi]" as trials publish it.
    const auto limits_of = [&](const std::string& n) { return has(n + "_lo") && has(n + "_hi"); };
    const auto is_limit = [&](const std::string& n) {
        for (const char* suffix : {"_lo", "_hi"})
            if (n.size() > 3 && n.compare(n.size() - 3, 3, suffix) == 0 && limits_of(n.substr(0, n.size() - 3))) return true;
        return false;
    };
    out << "\nPer replicate (" << f.replicates() << " replicates): mean; for an estimate, the means of its 95% limits in each "
           "replicate; and the 2.5% and 97.5% quantiles across replicates\n";
    std::size_t width = 8;
    for (const auto& n : ordered) width = std::max(width, n.size() + 2);
    const int w = static_cast<int>(width);
    out << std::left << std::setw(w) << "metric" << std::setw(52) << "meaning" << std::right << std::setw(9) << "mean"
        << std::setw(18) << "mean 95% limits" << std::setw(9) << "2.5%" << std::setw(9) << "97.5%" << "\n";
    for (const auto& n : ordered) {
        if (is_limit(n)) continue;
        const std::string at = "/summary/metrics/" + n;
        const auto s = f.read_numbers(at);
        std::string interval;
        if (limits_of(n))
            interval = "[" + fmt(f.read_numbers(at + "_lo")[0]) + ", " + fmt(f.read_numbers(at + "_hi")[0]) + "]";
        out << std::left << std::setw(w) << n << std::setw(52) << f.text_attribute(at, "label").substr(0, 50) << std::right
            << std::setw(9) << fmt(s[0]) << std::setw(18) << interval << std::setw(9) << fmt(s[1]) << std::setw(9) << fmt(s[3])
            << "\n";
    }
}

/// `therasim report ...`: runs `python3 -m therasim_analysis report ...` in place of this process.
/// `therasim report` and `therasim story`: run the analysis package's command of the same name
/// with the remaining arguments (its options are the package's).
int cmd_analysis(int argc, char** argv) {
    const std::string command = argv[1];
    auto env = [](const char* name, const char* fallback) {
        const char* v = std::getenv(name);
        return std::string(v && *v ? v : fallback);
    };
    const std::string python = env("THERASIM_PYTHON", THERASIM_PYTHON);
    const std::string dir = env("THERASIM_ANALYSIS", THERASIM_ANALYSIS_DIR);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir + "/therasim_analysis", ec))
        throw RunError("the analysis package is not in " + dir + "; set THERASIM_ANALYSIS to the directory that holds therasim_analysis");
    const std::string old = env("PYTHONPATH", "");
    std::string path = dir;
    if (!old.empty()) path.append(":").append(old);
    ::setenv("PYTHONPATH", path.c_str(), 1);
    ::setenv("THERASIM_ANALYSIS_PROG", "therasim", 1);  // usage lines say `therasim report`
    // -P: no module from the working directory shadows the package; -s: no user site-packages.
    std::vector<std::string> words = {python, "-P", "-s", "-m", "therasim_analysis", command};
    for (int i = 2; i < argc; ++i) words.emplace_back(argv[i]);
    std::vector<char*> args;
    for (auto& w : words) args.push_back(w.data());
    args.push_back(nullptr);
    std::cout.flush();
    ::execv(python.c_str(), args.data());
    throw RunError("cannot start " + python + " for the " + command + ": " + std::strerror(errno) +
                   "; set THERASIM_PYTHON to a Python 3 with numpy, pandas, h5py and matplotlib");
}

namespace {
int dispatch(int argc, char** argv, const ModelFactory& factory) {
    try {
        if (argc < 2) {
            std::cerr << USAGE;
            return EXIT_INVALID_INPUT;
        }
        const std::string cmd = argv[1];
        if (cmd == "-h" || cmd == "--help" || cmd == "help") {
            std::cout << USAGE;
            return EXIT_OK;
        }
        if (cmd == "--version") {
            std::cout << "therasim " << VERSION << " (" << GIT_COMMIT << ")\n";
            return EXIT_OK;
        }
        if (cmd == "report" || cmd == "story") return cmd_analysis(argc, argv);  // its options are the analysis package's
        const Args a = parse(argc, argv, 2, cmd);
        if (cmd == "run") return cmd_run(a, factory);
        if (cmd == "validate") return cmd_validate(a, factory);
        if (cmd == "params") return cmd_params(a, factory);
        if (cmd == "compare") return cmd_compare(a, factory);
        if (cmd == "merge") return cmd_merge(a, factory);
        throw UsageError("unknown command '" + cmd + "'; commands are run, merge, validate, params, compare, report, story");
    } catch (const Interrupted& e) {
        std::cerr << "\ntherasim: " << printable(e.what()) << "\n";
        return 128 + e.signal();
    } catch (const InputError& e) {
        std::cerr << "therasim: error: " << printable(e.what()) << "\n";
        return EXIT_INVALID_INPUT;
    } catch (const RunError& e) {
        std::cerr << "therasim: run failed: " << printable(e.what()) << "\n";
        return EXIT_RUN_FAILED;
    } catch (const std::bad_alloc&) {
        std::cerr << "therasim: run failed: out of memory\n";
        return EXIT_RUN_FAILED;
    } catch (const std::exception& e) {
        std::cerr << "therasim: internal error: " << printable(e.what()) << "\n";
        return EXIT_RUN_FAILED;
    }
}
}  // namespace

int cli_main(int argc, char** argv, const ModelFactory& factory) {
    const int rc = dispatch(argc, argv, factory);
    // Output that could not be written (a full disk, a closed pipe) is a failure, not a success.
    errno = 0;
    std::cout.flush();
    if (!std::cout) {
        if (errno == EPIPE) return 128 + SIGPIPE;  // the reader went away (`| head`): as a pipe's writer ends
        std::cerr << "therasim: cannot write to standard output" << (errno ? std::string(": ") + std::strerror(errno) : "") << "\n";
        return rc == EXIT_OK ? EXIT_RUN_FAILED : rc;
    }
    return rc;
}

}  // namespace sim
