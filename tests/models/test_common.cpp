// The model's numerical helpers (models/common.hpp): portable_exp against the C library's exp.

#include "models/common.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

namespace {

/// Distance in units in the last place between two positive finite doubles.
std::int64_t ulps(double a, double b) {
    std::int64_t ia, ib;
    std::memcpy(&ia, &a, sizeof a);
    std::memcpy(&ib, &b, sizeof b);
    return ia > ib ? ia - ib : ib - ia;
}

}  // namespace

TEST_CASE("portable_exp is within 2 ulp of exp where e^x is a normal double", "[common]") {
    std::mt19937_64 gen(20261204);  // fixed seed
    std::uniform_real_distribution<double> wide(-707.0, 709.78), narrow(-5.0, 5.0);
    std::int64_t worst = 0;
    for (int i = 0; i < 200000; ++i) {
        const double x = i % 2 ? wide(gen) : narrow(gen);
        worst = std::max(worst, ulps(models::portable_exp(x), std::exp(x)));
    }
    // at the points where r is largest (halfway between multiples of ln 2) and near 0
    for (int k = -1020; k <= 1023; ++k) {
        const double x = (k + 0.5) * 0.6931471805599453;
        if (x < -707.0 || x > 709.78) continue;
        worst = std::max(worst, ulps(models::portable_exp(x), std::exp(x)));
    }
    for (const double x : {1e-300, -1e-300, 1e-17, -1e-17, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0})
        worst = std::max(worst, ulps(models::portable_exp(x), std::exp(x)));
    INFO("largest difference from std::exp: " << worst << " ulp");
    CHECK(worst <= 2);
}

TEST_CASE("portable_exp at its edges", "[common]") {
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(models::portable_exp(0.0) == 1.0);
    CHECK(models::portable_exp(-0.0) == 1.0);
    CHECK(models::portable_exp(-707.5) == 0.0);  // e^x below 1e-307 is flushed to 0
    CHECK(models::portable_exp(-1e6) == 0.0);
    CHECK(models::portable_exp(-inf) == 0.0);
    CHECK(models::portable_exp(709.0) == Approx(std::exp(709.0)).epsilon(1e-15));
    CHECK(std::isfinite(models::portable_exp(709.78)));
    CHECK(models::portable_exp(710.0) == inf);
    CHECK(models::portable_exp(inf) == inf);
    CHECK(std::isnan(models::portable_exp(std::numeric_limits<double>::quiet_NaN())));
}
