/// @file compare.cpp
/// `therasim compare`. One file: its yearly headline outcomes. Several: the interventions and,
/// last, their comparator; replicate r of an intervention is paired with replicate r of the
/// comparator (same seed: common random numbers). The answer comes first, in sentences; then
/// one table per block of periods that fits 100 columns.

#include "sim/compare.hpp"

#include "sim/errors.hpp"
#include "sim/files.hpp"
#include "sim/h5.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <memory>
#include <optional>
#include <ostream>
#include <cstdio>
#include <sstream>

namespace sim {

double discount_factor(double rate, std::size_t year) {
    return year <= 1 ? 1.0 : std::pow(1.0 + rate, -static_cast<double>(year - 1));
}

std::vector<std::size_t> year_of_steps(const std::vector<double>& days, std::size_t& n_years) {
    constexpr double YEAR = 365.25;
    const double step_days = days.size() > 1 ? days[1] - days[0] : YEAR;
    n_years = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil((days.back() - step_days / 2) / YEAR)));
    std::vector<std::size_t> year(days.size(), 0);
    for (std::size_t t = 1; t < days.size(); ++t)
        year[t] = std::min(n_years, static_cast<std::size_t>(std::max(1.0, std::ceil(days[t] / YEAR - 1e-9))));
    return year;
}

namespace {

/// The price year of @p f's costs: integer parameter @p key of the scenario the file stores
/// (every results file holds its resolved scenario), or none.
std::optional<long long> price_year(const ResultsFile& f, const std::string& key) {
    if (key.empty()) return std::nullopt;
    try {
        YAML::Node node = YAML::Load(f.text_attribute("/", "resolved_scenario"));
        std::size_t from = 0;
        for (;;) {  // one mapping per dotted segment
            const std::size_t dot = key.find('.', from);
            // reset() rebinds; yaml-cpp's operator= would write into the node instead
            node.reset(node[key.substr(from, dot == std::string::npos ? std::string::npos : dot - from)]);
            if (!node.IsDefined() || dot == std::string::npos) break;
            from = dot + 1;
        }
        if (node.IsDefined() && node.IsScalar()) return node.as<long long>();
    } catch (const YAML::Exception&) {
    }
    return std::nullopt;
}

constexpr std::size_t LABEL_WIDTH = 30, TAG_WIDTH = 9, CELL_WIDTH = 10, CELLS_PER_BLOCK = 6;
const std::string MONEY_UNIT = "GBP";

// ---- numbers as planners read them ---------------------------------------------------------

std::string grouped(long long v) {
    std::string digits = std::to_string(v < 0 ? -v : v), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return (v < 0 ? "-" : "") + out;
}

std::string signed_text(double v, std::string body, bool sign) { return (sign && v > 0 ? "+" : "") + body; }

std::string money_text(double v, bool sign = false);

/// Counts as whole numbers with thousands separators, in at most CELL_WIDTH - 1 characters so
/// that a table's cells keep a space between them: from 10 million (or a signed million) in
/// millions to 3 significant figures, as money (11.9m bed-days, +1.23m).
std::string count_text(double v, bool sign = false) {
    const long long r = std::llround(v);
    std::string text = signed_text(static_cast<double>(r), grouped(r), sign);
    return text.size() < CELL_WIDTH ? text : money_text(v, sign);
}

/// Money to 3 significant figures in k or m (e.g. -20.0m, 456k, 1.23m, 640; 1,234m).
std::string money_text(double v, bool sign) {
    const double a = std::fabs(v);
    if (a < 999.5) return count_text(v, sign);
    const bool millions = a >= 999.5e3;
    const double scaled = v / (millions ? 1e6 : 1e3), s = std::fabs(scaled);
    const char* suffix = millions ? "m" : "k";
    if (s >= 999.5) return signed_text(v, grouped(std::llround(scaled)) + suffix, sign);
    std::ostringstream o;
    o << std::fixed << std::setprecision(s >= 99.95 ? 0 : s >= 9.995 ? 1 : 2) << scaled << suffix;
    return signed_text(v, o.str(), sign);
}

/// Means (ratings, shares) with 3 decimals.
std::string mean_text(double v, bool sign = false) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(3) << v;
    return signed_text(v, o.str() == "-0.000" ? "0.000" : o.str(), sign);
}

// ---- what is compared ------------------------------------------------------------------------

/// One row of the comparison: a series, or a sum of series (all money series: the net cost).
struct Outcome {
    std::string label, unit;
    std::vector<std::string> series;
    bool flow = false, mean = false, money = false, discounted = false;
    int better = 0;

    [[nodiscard]] std::string text(double v, bool sign = false) const {
        if (std::isnan(v)) return "n/a";
        return money ? money_text(v, sign) : mean ? mean_text(v, sign) : count_text(v, sign);
    }
};

struct Run {
    std::string path, name;
    std::unique_ptr<ResultsFile> file;
    std::size_t replicates = 0;
    long long seed = 0;
    std::vector<double> days;
    double patients = 0;  ///< at step 0, replicate 0
    bool sweep = false;
};

Run open_run(const std::string& path) {
    Run r;
    r.path = path;
    r.file = std::make_unique<ResultsFile>(path);
    r.name = r.file->provenance("scenario_name");
    r.replicates = r.file->replicates();
    r.seed = r.file->provenance_integer("seed");
    r.days = r.file->days();
    const auto names = r.file->national_series();
    if (std::find(names.begin(), names.end(), "patients") != names.end())
        r.patients = r.file->national_replicates("patients").front().front();
    r.sweep = !r.file->names("/sweep").empty();
    return r;
}

/// Why @p a and @p b cannot be paired replicate by replicate (empty if they can).
std::vector<std::string> pairing_problems(const Run& a, const Run& b) {
    std::vector<std::string> why;
    if (a.seed != b.seed)
        why.push_back("their seeds differ (" + std::to_string(a.seed) + " and " + std::to_string(b.seed) +
                      "), so they share no random numbers; run both with the same --seed");
    if (a.replicates != b.replicates)
        why.push_back("their numbers of replicates differ (" + std::to_string(a.replicates) + " and " +
                      std::to_string(b.replicates) + "); run both with the same --replicates");
    if (a.patients != b.patients)
        why.push_back("their populations differ (" + count_text(a.patients) + " and " + count_text(b.patients) + " patients)");
    const double step_a = a.days.size() > 1 ? a.days[1] - a.days[0] : 0, step_b = b.days.size() > 1 ? b.days[1] - b.days[0] : 0;
    if (step_a != step_b)
        why.push_back("their step lengths differ (" + mean_text(step_a) + " and " + mean_text(step_b) + " days)");
    else if (a.days.size() != b.days.size())
        why.push_back("their horizons differ (" + std::to_string(a.days.size() - 1) + " and " + std::to_string(b.days.size() - 1) +
                      " steps)");
    if (a.sweep || b.sweep) why.push_back("a sweep's runs are design points, not replicates of one scenario");
    return why;
}

/// Values of an outcome per replicate and period: years 1..n, then the whole horizon. Flows are
/// summed (each year's sum times its discount factor), levels read at the period's end.
std::vector<std::vector<double>> by_period(const ResultsFile& f, const Outcome& o, const std::vector<std::size_t>& year,
                                           std::size_t n_years, double rate) {
    std::vector<std::vector<double>> out;
    for (const auto& name : o.series) {
        const auto reps = f.national_replicates(name);
        if (out.empty()) out.assign(reps.size(), std::vector<double>(n_years + 1, 0.0));
        for (std::size_t r = 0; r < reps.size(); ++r) {
            std::vector<double> v(n_years + 1, 0.0);
            for (std::size_t t = 1; t < reps[r].size(); ++t) {
                if (o.flow) v[year[t] - 1] += reps[r][t];
                else v[year[t] - 1] = reps[r][t];  // the last step of the year wins
            }
            if (o.flow) {
                for (std::size_t y = 0; y < n_years; ++y) v[n_years] += v[y] *= discount_factor(rate, y + 1);
            } else {
                v[n_years] = v[n_years - 1];
            }
            for (std::size_t p = 0; p <= n_years; ++p) out[r][p] += v[p];
        }
    }
    return out;
}

/// Quantile @p p of @p x (linear interpolation between order statistics, as numpy's default).
double quantile(std::vector<double> x, double p) {
    std::sort(x.begin(), x.end());
    const double h = (static_cast<double>(x.size()) - 1.0) * p;
    const auto lo = static_cast<std::size_t>(h);
    const std::size_t hi = std::min(lo + 1, x.size() - 1);
    return x[lo] + (h - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

struct Stats {
    double mean = NAN, lo = NAN, hi = NAN;
    [[nodiscard]] bool has_interval() const { return !std::isnan(lo); }
};

/// Mean (and, for paired runs with 2 or more replicates, the 95% interval) of the effect A - B in
/// period @p p.
Stats effect(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b, std::size_t p, bool paired) {
    Stats s;
    double ma = 0, mb = 0;
    for (const auto& v : a) ma += v[p];
    for (const auto& v : b) mb += v[p];
    s.mean = ma / static_cast<double>(a.size()) - mb / static_cast<double>(b.size());
    if (paired && a.size() > 1) {
        std::vector<double> d;
        for (std::size_t r = 0; r < a.size(); ++r) d.push_back(a[r][p] - b[r][p]);
        s.lo = quantile(d, 0.025);
        s.hi = quantile(d, 0.975);
    }
    return s;
}

/// The @p q quantile across replicates of period @p p.
double quantile_of(const std::vector<std::vector<double>>& v, std::size_t p, double q) {
    std::vector<double> x;
    for (const auto& r : v) x.push_back(r[p]);
    return quantile(x, q);
}

double mean_of(const std::vector<std::vector<double>>& v, std::size_t p) {
    double m = 0;
    for (const auto& r : v) m += r[p];
    return m / static_cast<double>(v.size());
}

/// "1,234 fewer", "0.021 higher", "saves GBP 20.0m": a change in words.
std::string change_words(const Outcome& o, double v) {
    if (o.money) return v < 0 ? "saves " + MONEY_UNIT + " " + money_text(-v) : v > 0 ? "costs " + MONEY_UNIT + " " + money_text(v) + " more" : "no change";
    const std::string amount = o.text(std::fabs(v));
    if (amount == o.text(0.0)) return "no change";
    if (o.mean) return amount + (v < 0 ? " lower" : " higher");
    return amount + (v < 0 ? " fewer" : " more");
}

std::string interval_words(const Outcome& o, const Stats& s, const std::string& without) {
    if (!s.has_interval()) return without.empty() ? "" : " (" + without + ")";
    if (change_words(o, s.lo) == "no change" && change_words(o, s.hi) == "no change") return " in every replicate";
    return " (95% interval " + change_words(o, s.lo) + " to " + change_words(o, s.hi) + ")";
}

std::vector<std::string> wrap(const std::string& text, std::size_t width) {
    std::vector<std::string> lines;
    std::istringstream words(text);
    std::string w, line;
    while (words >> w) {
        while (w.size() > width) {  // a word longer than the column is split
            if (!line.empty()) lines.push_back(line), line.clear();
            lines.push_back(w.substr(0, width));
            w = w.substr(width);
        }
        if (!line.empty() && line.size() + 1 + w.size() > width) lines.push_back(line), line.clear();
        line += (line.empty() ? "" : " ") + w;
    }
    if (!line.empty() || lines.empty()) lines.push_back(line);
    return lines;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string csv_number(double v) {
    if (std::isnan(v)) return "";
    std::ostringstream o;
    o << std::setprecision(17) << v;
    return o.str();
}

}  // namespace

void print_comparison(std::ostream& out, const CompareOptions& opt) {
    if (opt.files.empty()) throw UsageError("compare expects one or more result files");
    if (!(opt.discount_rate >= 0.0 && opt.discount_rate <= 1.0))
        throw UsageError("--discount expects an annual rate from 0 to 1 (0.035 is 3.5%)");
    if (!(opt.population >= 0.0 && opt.population <= 1e9))
        throw UsageError("--population expects a number of patients from 1 to 1,000,000,000");
    if (!opt.csv.empty()) check_output_path(opt.csv, opt.overwrite, opt.files);
    std::vector<Run> runs;
    for (const auto& p : opt.files) runs.push_back(open_run(p));
    const Run& base = runs.back();
    const std::size_t n_arms = runs.size() - 1;  // interventions; 0: one file, no comparison
    bool paired = true;
    for (std::size_t i = 0; i < n_arms; ++i) {
        const auto why = pairing_problems(runs[i], base);
        if (why.empty()) continue;
        paired = false;
        if (opt.unpaired) continue;
        std::string msg = "cannot pair '" + runs[i].path + "' with '" + base.path + "': ";
        for (std::size_t k = 0; k < why.size(); ++k) msg += (k ? "; " : "") + why[k];
        throw UsageError(msg + ". Pass --unpaired to compare their means without pairing (no intervals)");
    }
    for (std::size_t i = 0; i < n_arms; ++i)  // even unpaired, a period must mean the same days
        if (runs[i].days != base.days)
            throw UsageError("cannot compare '" + runs[i].path + "' with '" + base.path + "': their time axes differ (" +
                             std::to_string(runs[i].days.size() - 1) + " and " + std::to_string(base.days.size() - 1) + " steps)");

    std::size_t n_years = 0;
    const std::vector<std::size_t> year = year_of_steps(base.days, n_years);
    const std::size_t n_periods = n_years + 1, horizon = n_years;
    std::vector<std::string> periods;
    for (std::size_t y = 1; y <= n_years; ++y) periods.push_back("year " + std::to_string(y));
    periods.push_back(n_years == 1 ? "whole run" : "years 1-" + std::to_string(n_years));  // a header of at most CELL_WIDTH - 1

    // The rows: headline series that are not money, then the costs and the net cost.
    std::vector<Outcome> outcomes;
    Outcome net{"Net cost: all costs", MONEY_UNIT, {}, true, false, true, false, -1};
    for (const auto& name : base.file->national_series()) {
        const SeriesData d = base.file->national(name);
        Outcome o{d.label, d.unit, {name}, d.flow, d.mean, d.unit == MONEY_UNIT, false, d.better};
        if (o.money && o.flow) {
            net.series.push_back(name);
            if (d.headline) outcomes.push_back(o);
        } else if (d.headline) {
            outcomes.push_back(o);
        }
    }
    std::stable_partition(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return !o.money; });
    if (!net.series.empty()) {
        outcomes.push_back(net);
        Outcome disc = net;
        std::ostringstream pct;
        pct << opt.discount_rate * 100;
        disc.label = "Net cost, discounted at " + pct.str() + "% a year";
        disc.discounted = true;
        outcomes.push_back(disc);
    }
    // An outcome of a run per replicate and period; with --population, counts, costs and numbers
    // of patients become national totals (means stay).
    const auto period_values = [&](const Run& r, const Outcome& o, double rate) {
        auto v = by_period(*r.file, o, year, n_years, rate);
        if (opt.population > 0 && r.patients > 0 && !o.mean)
            for (auto& rep : v)
                for (double& x : rep) x *= opt.population / r.patients;
        return v;
    };
    // values[outcome][run][replicate][period]
    std::vector<std::vector<std::vector<std::vector<double>>>> values;
    for (const auto& o : outcomes) {
        values.emplace_back();
        for (const auto& r : runs) values.back().push_back(period_values(r, o, o.discounted ? opt.discount_rate : 0.0));
    }

    auto letter = [&](std::size_t i) {
        if (n_arms == 0) return std::string();
        if (i == n_arms) return std::string("B");
        return n_arms == 1 ? std::string("A") : "A" + std::to_string(i + 1);
    };
    out << "\n";
    for (std::size_t i = 0; i < runs.size(); ++i) {
        out << (n_arms ? letter(i) + ": " : "") << runs[i].name << " (" << runs[i].path << ")" << (n_arms && i == n_arms ? ", the comparator" : "") << "\n";
        if (runs[i].sweep)
            out << "   a sweep: its " << runs[i].replicates << " runs span the design's parameter ranges, and the figures below "
                << "pool them (an uncertainty analysis over those ranges, not one scenario)\n";
    }
    const bool one_run = base.replicates < 2;
    if (!n_arms)
        out << (one_run ? "One replicate: no interval. Run 10 or more replicates (--replicates) for intervals.\n"
                        : "Means of the " + std::to_string(base.replicates) +
                              " replicates; the 2.5% and 97.5% rows bound 95% of them (simulation noise only)" +
                              (base.replicates < 10 ? "; from fewer than 10 replicates they are rough" : "") + ".\n");
    if (n_arms) {
        const std::string pairing = (paired ? "Paired: replicate r of each run with replicate r of B (seed " + std::to_string(base.seed) +
                             ", common random numbers), " + std::to_string(base.replicates) + " replicate(s), " +
                             count_text(base.patients) + " patients" +
                             (opt.population > 0 ? "; counts and costs scaled to " + count_text(opt.population) + " patients (national totals)." : ".")
                       : "UNPAIRED: the runs do not share their random numbers, so the differences below mix the effect "
                         "with chance; they are differences of means, with no interval.");
        out << "\n";
        for (const auto& l : wrap(pairing, 98)) out << l << "\n";
        if (paired && one_run) out << "One replicate: no interval. Run 10 or more replicates (--replicates) for intervals.\n";
        else if (paired && base.replicates < 10)
            out << "Warning: only " << base.replicates << " replicates; intervals from fewer than 10 are rough.\n";

        // ---- findings, in sentences ----
        const std::string without = paired ? (one_run ? "one run: no interval" : "") : "unpaired: no interval";
        for (std::size_t i = 0; i < n_arms; ++i) {
            out << "\n";
            for (const auto& l : wrap("Findings, " + (n_years == 1 ? std::string("year 1") : periods[horizon]) + ", " + letter(i) + " against B" +
                                          (paired && !one_run ? " (95% intervals of the paired differences: simulation "
                                                                "noise only, not parameter uncertainty)"
                                                              : "") + ":", 98))
                out << l << "\n";
            const Outcome* net_disc = nullptr;
            Stats net_s, net_u;
            bool worse = false, better = false;
            std::vector<std::pair<std::string, double>> avoided;  // events fewer, discounted like the costs
            for (std::size_t k = 0; k < outcomes.size(); ++k) {
                const Outcome& o = outcomes[k];
                const Stats s = effect(values[k][i], values[k][n_arms], horizon, paired);
                if (o.money && o.series.size() > 1) {
                    if (o.discounted) net_disc = &o, net_s = s;
                    else net_u = s;
                    continue;
                }
                if (o.money) continue;
                const std::string when = o.flow ? "" : " at the end";
                const auto lines = wrap(o.label + when + ": " + change_words(o, s.mean) + interval_words(o, s, without), 94);
                for (std::size_t l = 0; l < lines.size(); ++l) out << (l == 0 ? "  " : "    ") << lines[l] << "\n";
                // "Better" counts only where the interval excludes no change (or, without one, the mean).
                const double sure = s.has_interval() ? (s.lo > 0 ? 1 : s.hi < 0 ? -1 : 0) : (s.mean > 0 ? 1 : s.mean < 0 ? -1 : 0);
                if (o.better * sure > 0) better = true;
                if (o.better * sure < 0) worse = true;
                if (o.flow && o.better < 0 && s.mean < 0) {
                    const auto da = period_values(runs[i], o, opt.discount_rate);
                    const auto db = period_values(base, o, opt.discount_rate);
                    avoided.emplace_back(o.label, mean_of(db, horizon) - mean_of(da, horizon));
                }
            }
            if (net_disc == nullptr) continue;
            const auto net_lines = wrap(net_disc->label + ": " + change_words(*net_disc, net_s.mean) +
                                            interval_words(*net_disc, net_s, without) + "; undiscounted " +
                                            change_words(*net_disc, net_u.mean), 94);
            for (std::size_t l = 0; l < net_lines.size(); ++l) out << (l == 0 ? "  " : "    ") << net_lines[l] << "\n";
            // Break-even: the first year from which the cumulative discounted net cost stays below zero.
            const std::size_t k_disc = static_cast<std::size_t>(net_disc - outcomes.data());
            double cum = 0;
            std::size_t even = 0;
            for (std::size_t y = 0; y < n_years; ++y) {
                cum += mean_of(values[k_disc][i], y) - mean_of(values[k_disc][n_arms], y);
                if (cum < 0 && even == 0) even = y + 1;
                if (cum >= 0) even = 0;
            }
            out << "  Break-even: "
                << (even == 0 ? "not within the " + std::to_string(n_years) + " year(s): the cumulative net cost stays above zero"
                              : even == 1 ? "in year 1: it saves money from the first year"
                                          : "in year " + std::to_string(even) + ": the cumulative net cost is below zero from then on")
                << "\n";
            out << "  In sum: ";
            if (net_s.mean == 0 && !better && !worse) out << "no difference in costs or outcomes.\n";
            else if (net_s.mean < 0 && better && !worse) out << letter(i) << " is dominant: it saves money and improves outcomes.\n";
            else if (net_s.mean < 0 && !worse) out << letter(i) << " saves money with no outcome clearly changed.\n";
            else if (net_s.mean < 0) out << letter(i) << " saves money, but some outcomes are worse: see above.\n";
            else if (!better) out << letter(i) << " costs more and improves no outcome clearly: B dominates.\n";
            else if (!avoided.empty()) {
                // Cost per event avoided: the discounted net cost over the discounted events avoided.
                std::string each;
                for (const auto& [what, n] : avoided) {
                    std::string noun = what;  // mid-sentence: "per one fewer of involuntary admissions"
                    if (noun.size() > 1 && std::isupper(static_cast<unsigned char>(noun[0])) &&
                        !std::isupper(static_cast<unsigned char>(noun[1])))
                        noun[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(noun[0])));
                    each += (each.empty() ? "" : "; ") + MONEY_UNIT + " " + money_text(net_s.mean / n) + " per one fewer of " + noun;
                }
                const auto lines = wrap(letter(i) + " costs more (discounted costs and events): " + each +
                                            (worse ? ". Some outcomes are worse: see above." : "."), 90);
                for (std::size_t l = 0; l < lines.size(); ++l) out << (l == 0 ? "" : "    ") << lines[l] << "\n";
            } else {
                out << letter(i) << " costs more and improves some outcomes: weigh them against " << change_words(*net_disc, net_s.mean)
                    << ".\n";
            }
        }
        std::ostringstream note;
        const std::optional<long long> prices = price_year(*base.file, opt.price_year_parameter);
        note << "Costs in " << MONEY_UNIT << " at "
             << (prices ? std::to_string(*prices) + " prices (" + opt.price_year_parameter + ")" : std::string("the prices of the scenario's cost parameters"))
             << "; the horizon column sums "
             << "flows over the years and gives levels at the end. Year y of a discounted row is divided by (1 + "
             << opt.discount_rate << ")^(y - 1).";
        out << "\n";
        for (const auto& l : wrap(note.str(), 98)) out << l << "\n";
    }

    // ---- the table, in blocks of periods that fit 100 columns ----
    std::ostringstream csv;
    csv << "outcome,label,unit,row,file,period,value\n";
    for (std::size_t first = 0; first < n_periods; first += CELLS_PER_BLOCK) {
        const std::size_t last = std::min(n_periods, first + CELLS_PER_BLOCK);
        out << "\n" << std::left << std::setw(static_cast<int>(LABEL_WIDTH + TAG_WIDTH)) << "outcome (unit)" << std::right;
        for (std::size_t p = first; p < last; ++p) out << std::setw(static_cast<int>(CELL_WIDTH)) << periods[p];
        out << "\n";
        for (std::size_t k = 0; k < outcomes.size(); ++k) {
            const Outcome& o = outcomes[k];
            std::vector<std::pair<std::string, std::vector<std::string>>> rows;  // tag, cells
            auto add = [&](const std::string& tag, auto&& cell) {
                std::vector<std::string> cells;
                for (std::size_t p = first; p < last; ++p) cells.push_back(cell(p));
                rows.emplace_back(tag, cells);
            };
            for (std::size_t i = 0; i < runs.size(); ++i) add(letter(i), [&](std::size_t p) { return o.text(mean_of(values[k][i], p)); });
            if (n_arms == 0 && !one_run) {
                // One file: the range of the replicates' values (simulation noise), as an interval.
                add("  2.5%", [&](std::size_t p) { return o.text(quantile_of(values[k][0], p, 0.025)); });
                add("  97.5%", [&](std::size_t p) { return o.text(quantile_of(values[k][0], p, 0.975)); });
            }
            for (std::size_t i = 0; i < n_arms; ++i) {
                std::vector<Stats> e(n_periods);
                for (std::size_t p = first; p < last; ++p) e[p] = effect(values[k][i], values[k][n_arms], p, paired);
                add(letter(i) + " - B", [&](std::size_t p) { return o.text(e[p].mean, true); });
                if (paired && !one_run) {
                    add("  2.5%", [&](std::size_t p) { return o.text(e[p].lo, true); });
                    add("  97.5%", [&](std::size_t p) { return o.text(e[p].hi, true); });
                }
            }
            const auto label = wrap(o.label + " (" + o.unit + (o.flow ? ", per year" : "") + ")", LABEL_WIDTH - 1);
            for (std::size_t r = 0; r < std::max(rows.size(), label.size()); ++r) {
                out << std::left << std::setw(static_cast<int>(LABEL_WIDTH)) << (r < label.size() ? label[r] : "")
                    << std::setw(static_cast<int>(TAG_WIDTH)) << (r < rows.size() ? rows[r].first : "") << std::right;
                if (r < rows.size())
                    for (const auto& c : rows[r].second) out << std::setw(static_cast<int>(CELL_WIDTH)) << c;
                out << "\n";
            }
        }
        if (n_arms && !paired) out << "(A - B rows are unpaired differences of means)\n";
    }
    if (opt.csv.empty()) return;
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
        const Outcome& o = outcomes[k];
        const std::string key = o.series.size() == 1 ? o.series[0] : (o.discounted ? "net_cost_discounted" : "net_cost");
        auto row = [&](const std::string& tag, const std::string& file, std::size_t p, double v) {
            csv << csv_field(key) << ',' << csv_field(o.label) << ',' << csv_field(o.unit) << ',' << csv_field(tag) << ','
                << csv_field(file) << ',' << csv_field(periods[p]) << ',' << csv_number(v) << "\n";
        };
        for (std::size_t p = 0; p < n_periods; ++p) {
            for (std::size_t i = 0; i < runs.size(); ++i) row(n_arms ? letter(i) : "mean", runs[i].path, p, mean_of(values[k][i], p));
            if (n_arms == 0 && !one_run) {
                row("2.5%", runs[0].path, p, quantile_of(values[k][0], p, 0.025));
                row("97.5%", runs[0].path, p, quantile_of(values[k][0], p, 0.975));
            }
            for (std::size_t i = 0; i < n_arms; ++i) {
                const Stats s = effect(values[k][i], values[k][n_arms], p, paired);
                const std::string d = letter(i) + " - B" + (paired ? "" : " (unpaired)");
                row(d, runs[i].path, p, s.mean);
                if (s.has_interval()) {
                    row(d + " 2.5%", runs[i].path, p, s.lo);
                    row(d + " 97.5%", runs[i].path, p, s.hi);
                }
            }
        }
    }
    // Written whole under a temporary name, then moved into place; never over a file that
    // appeared meanwhile unless --overwrite.
    const std::string tmp = opt.csv + ".tmp";
    files::write_file(tmp, csv.str().data(), csv.str().size(), true);
    if (!files::move_into_place(tmp, opt.csv, opt.overwrite)) {
        std::remove(tmp.c_str());
        throw UsageError("'" + opt.csv + "' appeared while compare ran; it was kept (pass --overwrite to replace it)");
    }
    out << "\nwrote " << opt.csv << "\n";
}

}  // namespace sim
