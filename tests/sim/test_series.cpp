// Time series: per-block tallies reduced in block order (so results never depend on which
// thread filled which block, or in what order), mean series over their denominators, NaN for
// empty groups, national-only series, and thread-count independence of a whole run.
#include "tests/support.hpp"

#include "sim/series.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

// Series of the test schema, in declaration order.
constexpr int COUNT = 0;             // sum: members of the group
constexpr int SCORE = 1;             // sum: their total score
constexpr int MEAN_SCORE = 2;        // mean of SCORE over COUNT
constexpr int BUDGET = 3;            // national-only sum
constexpr int STAFF = 4;             // national-only sum
constexpr int BUDGET_PER_STAFF = 5;  // national-only mean over STAFF

constexpr std::size_t N_GROUPS = 3;
constexpr std::size_t N_STEPS = 4;
constexpr std::size_t N_BLOCKS = 8;
constexpr std::uint32_t SHUFFLE_SEED = 2024;

// Partial sums whose total depends on the order they are added in: 1e16 + 1 rounds back to 1e16.
constexpr double HUGE_VALUE = 1e16;

const sim::Schema& series_schema() {
    static const sim::Schema s = [] {
        sim::Schema x;
        x.series("count", "members", "Members");
        x.series("score", "points", "Total score");
        x.series("mean_score", "points", "Mean score", sim::Stat::mean, "count");
        x.series("budget", "GBP", "Budget").national_only();
        x.series("staff", "people", "Staff").national_only();
        x.series("budget_per_staff", "GBP", "Budget per member of staff", sim::Stat::mean, "staff").national_only();
        x.check();
        return x;
    }();
    return s;
}

sim::SeriesStore make_store(std::size_t n_blocks = N_BLOCKS) {
    sim::SeriesStore st;
    st.init(series_schema(), N_GROUPS, N_STEPS, n_blocks);
    return st;
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

/// The value block @p b adds to SCORE of group @p g: magnitudes that make the sum order-dependent.
double block_value(std::size_t b, std::size_t g) {
    static const double pattern[] = {HUGE_VALUE, 1.0, -HUGE_VALUE, 1.0, 0.1, HUGE_VALUE, 3.0, -HUGE_VALUE};
    return pattern[(b + g) % std::size(pattern)] * static_cast<double>(g + 1);
}

/// Fills every block's tally (as a block of a sweep would), visiting blocks in @p order.
void fill(sim::SeriesStore& st, const std::vector<std::size_t>& order) {
    for (std::size_t b : order) {
        sim::Tally t = st.tally(b);
        for (std::size_t g = 0; g < N_GROUPS; ++g) {
            // Several rows per block, added in row order within the block.
            t.add(g, SCORE, block_value(b, g));
            t.add(g, SCORE, 0.25);
            t.add(g, COUNT, 1.0);
        }
    }
}

/// The committed value the engine promises: block partials summed in block order.
double expected_score(std::size_t g) {
    double total = 0.0;
    for (std::size_t b = 0; b < N_BLOCKS; ++b) {
        double partial = 0.0;
        partial += block_value(b, g);
        partial += 0.25;
        total += partial;
    }
    return total;
}

std::vector<std::size_t> forward() {
    std::vector<std::size_t> v(N_BLOCKS);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

}  // namespace

TEST_CASE("the test values are order-sensitive, so the block-order tests can fail", "[series]") {
    // Summing the same block partials in reverse order gives another result for some group.
    std::size_t sensitive = 0;
    for (std::size_t g = 0; g < N_GROUPS; ++g) {
        double rev = 0.0;
        for (std::size_t b = N_BLOCKS; b-- > 0;) rev += block_value(b, g) + 0.25;
        sensitive += bits(rev) != bits(expected_score(g));
    }
    REQUIRE(sensitive > 0);
}

TEST_CASE("commit sums block slots in block order, whatever order the blocks were filled in", "[series][determinism]") {
    std::vector<std::vector<std::size_t>> orders;
    orders.push_back(forward());
    orders.push_back(forward());
    std::reverse(orders.back().begin(), orders.back().end());
    orders.push_back({1, 3, 5, 7, 0, 2, 4, 6});
    for (std::uint32_t k = 0; k < 5; ++k) {
        orders.push_back(forward());
        std::shuffle(orders.back().begin(), orders.back().end(), std::mt19937(SHUFFLE_SEED + k));
    }
    for (const auto& order : orders) {
        sim::SeriesStore st = make_store();
        fill(st, order);
        st.commit(1);
        for (std::size_t g = 0; g < N_GROUPS; ++g) {
            INFO("group " << g << ", first block filled " << order.front());
            CHECK(bits(st.sum(1, g, SCORE)) == bits(expected_score(g)));
            CHECK(st.sum(1, g, COUNT) == static_cast<double>(N_BLOCKS));
        }
    }
}

TEST_CASE("blocks filled concurrently, however they are split between threads, give the same sums", "[series][determinism]") {
    // Tasks take contiguous runs of blocks, as the parallel sweep does; split them 1, 2, 3 and 8 ways.
    for (std::size_t n_tasks : {1u, 2u, 3u, 8u}) {
        INFO(n_tasks << " tasks");
        sim::SeriesStore st = make_store();
        std::vector<std::thread> threads;
        const std::size_t per = (N_BLOCKS + n_tasks - 1) / n_tasks;
        for (std::size_t t = 0; t < n_tasks; ++t)
            threads.emplace_back([&st, t, per] {
                std::vector<std::size_t> mine;
                for (std::size_t b = t * per; b < std::min(N_BLOCKS, (t + 1) * per); ++b) mine.push_back(b);
                std::reverse(mine.begin(), mine.end());
                fill(st, mine);
            });
        for (auto& th : threads) th.join();
        st.commit(2);
        for (std::size_t g = 0; g < N_GROUPS; ++g) CHECK(bits(st.sum(2, g, SCORE)) == bits(expected_score(g)));
    }
}

TEST_CASE("commit clears the block slots and leaves other steps alone", "[series]") {
    sim::SeriesStore st = make_store();
    fill(st, forward());
    st.commit(1);
    st.commit(2);  // nothing was added for step 2
    for (std::size_t g = 0; g < N_GROUPS; ++g) {
        CHECK(st.sum(2, g, SCORE) == 0.0);
        CHECK(st.sum(2, g, COUNT) == 0.0);
        CHECK(st.sum(0, g, COUNT) == 0.0);
        CHECK(st.sum(1, g, COUNT) == static_cast<double>(N_BLOCKS));
    }
    CHECK(st.n_steps() == N_STEPS);
    CHECK(st.n_groups() == N_GROUPS);
    CHECK(st.n_series() == series_schema().series().size());
    // Rows exist for steps 0..n_steps inclusive.
    st.tally(0).add(0, COUNT, 5.0);
    st.commit(N_STEPS);
    CHECK(st.sum(N_STEPS, 0, COUNT) == 5.0);
}

TEST_CASE("a mean series divides by its denominator, per group and over all groups", "[series][mean]") {
    sim::SeriesStore st = make_store(2);
    // Group 0: 4 members scoring 10 in total (split over both blocks); group 1: 1 member scoring 5.
    sim::Tally a = st.tally(0), b = st.tally(1);
    a.add(0, COUNT, 3.0);
    a.add(0, MEAN_SCORE, 7.0);
    b.add(0, COUNT, 1.0);
    b.add(0, MEAN_SCORE, 3.0);
    b.add(1, COUNT, 1.0);
    b.add(1, MEAN_SCORE, 5.0);
    st.commit(1);
    const auto& s = series_schema();
    CHECK(st.value(s, 1, MEAN_SCORE, 0) == 2.5);
    CHECK(st.value(s, 1, MEAN_SCORE, 1) == 5.0);
    // Over all groups: total over total (15 / 5), not the mean of the group means (3.75).
    CHECK(st.value(s, 1, MEAN_SCORE, sim::SeriesStore::ALL) == 3.0);
    CHECK(st.value(s, 1, COUNT, sim::SeriesStore::ALL) == 5.0);
    CHECK(st.value(s, 1, COUNT, 0) == 4.0);
    // The stored sum of a mean series is its numerator.
    CHECK(st.sum(1, 0, MEAN_SCORE) == 10.0);
}

TEST_CASE("an empty group gives NaN for a mean series and 0 for a sum", "[series][mean]") {
    sim::SeriesStore st = make_store(1);
    st.tally(0).add(0, COUNT, 2.0);
    st.tally(0).add(0, MEAN_SCORE, 3.0);
    st.commit(1);
    const auto& s = series_schema();
    CHECK(std::isnan(st.value(s, 1, MEAN_SCORE, 2)));  // group 2 has no members
    CHECK(st.value(s, 1, COUNT, 2) == 0.0);
    CHECK(st.value(s, 1, SCORE, 2) == 0.0);
    CHECK(st.value(s, 1, MEAN_SCORE, 0) == 1.5);
    // A step where nobody was counted anywhere.
    CHECK(std::isnan(st.value(s, 2, MEAN_SCORE, sim::SeriesStore::ALL)));
    CHECK(st.value(s, 2, COUNT, sim::SeriesStore::ALL) == 0.0);
}

TEST_CASE("national-only series: set, add, their means, and the same value for every group", "[series][national]") {
    sim::SeriesStore st = make_store();
    const auto& s = series_schema();
    st.set_national(1, BUDGET, 100.0);
    st.add_national(1, BUDGET, 50.0);
    st.set_national(1, STAFF, 3.0);
    st.set_national(1, BUDGET_PER_STAFF, 300.0);
    st.commit(1);
    CHECK(st.national(1, BUDGET) == 150.0);
    CHECK(st.value(s, 1, BUDGET, sim::SeriesStore::ALL) == 150.0);
    for (std::size_t g = 0; g < N_GROUPS; ++g) CHECK(st.value(s, 1, BUDGET, g) == 150.0);
    CHECK(st.value(s, 1, BUDGET_PER_STAFF, sim::SeriesStore::ALL) == 100.0);
    // set replaces, add accumulates.
    st.set_national(1, BUDGET, 7.0);
    CHECK(st.national(1, BUDGET) == 7.0);
    // No staff: the mean is NaN; other steps are untouched.
    CHECK(std::isnan(st.value(s, 2, BUDGET_PER_STAFF, sim::SeriesStore::ALL)));
    CHECK(st.national(2, BUDGET) == 0.0);
}

TEST_CASE("Schema::check refuses a mean series without a valid denominator", "[series][schema]") {
    SECTION("undeclared denominator") {
        sim::Schema s;
        s.series("mean_x", "x", "Mean x", sim::Stat::mean, "nobody");
        CHECK_THROWS_WITH(s.check(), Catch::Contains("series mean_x has no denominator series nobody"));
    }
    SECTION("grouped mean over a national-only denominator") {
        sim::Schema s;
        s.series("n", "x", "N").national_only();
        s.series("mean_x", "x", "Mean x", sim::Stat::mean, "n");
        CHECK_THROWS_WITH(s.check(), Catch::Contains("differ in grouping"));
    }
    SECTION("a series declared twice") {
        sim::Schema s;
        s.series("n", "x", "N");
        CHECK_THROWS_AS(s.series("n", "x", "N"), std::logic_error);
    }
}

TEST_CASE("a whole run gives bit-identical series on 1 and 2 threads", "[series][determinism][run]") {
    // 5000 patients span three blocks of BLOCK_SIZE rows, so the sweep really is split.
    constexpr int N_PATIENTS = 5000;
    static_assert(N_PATIENTS > 2 * static_cast<int>(sim::BLOCK_SIZE));
    const std::string yaml = test::small_yaml(N_PATIENTS, 0.5);
    const test::Run one = test::run(yaml, {}, 1);
    const test::Run two = test::run(yaml, {}, 2);
    const sim::SeriesStore& a = one.world().series;
    const sim::SeriesStore& b = two.world().series;
    REQUIRE(a.n_steps() == b.n_steps());
    REQUIRE(a.n_groups() == b.n_groups());
    const auto& schema = test::schema();
    std::size_t compared = 0;
    for (std::size_t s = 0; s < schema.series().size(); ++s) {
        INFO("series " << schema.series()[s].name);
        for (std::size_t t = 0; t <= a.n_steps(); ++t) {
            REQUIRE(bits(a.value(schema, t, s, sim::SeriesStore::ALL)) == bits(b.value(schema, t, s, sim::SeriesStore::ALL)));
            for (std::size_t g = 0; g < a.n_groups(); ++g, ++compared)
                REQUIRE(bits(a.value(schema, t, s, g)) == bits(b.value(schema, t, s, g)));
        }
    }
    CHECK(compared > 0);
    CHECK(one.national("patients", a.n_steps()) == N_PATIENTS);
}
