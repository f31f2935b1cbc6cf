#include "sim/distribution.hpp"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace sim {

const char* to_string(Distribution::Kind k) {
    switch (k) {
        case Distribution::Kind::none: return "none";
        case Distribution::Kind::fixed: return "fixed";
        case Distribution::Kind::beta: return "beta";
        case Distribution::Kind::gamma: return "gamma";
        case Distribution::Kind::lognormal: return "lognormal";
        case Distribution::Kind::normal: return "normal";
        case Distribution::Kind::uniform: return "uniform";
    }
    return "?";
}

Distribution Distribution::centred_at(double m) const {
    Distribution d = *this;
    if (kind == Kind::uniform) {
        const double shift = m - mean();
        d.a += shift;
        d.b += shift;
    } else if (drawn()) {
        d.b = a != 0.0 ? b * std::abs(m / a) : b;
        d.a = m;
    }
    return d;
}

std::string Distribution::problem() const {
    const auto finite = std::isfinite(a) && std::isfinite(b);
    switch (kind) {
        case Kind::none:
        case Kind::fixed: return "";
        case Kind::beta:
            if (!finite || !(a > 0 && a < 1)) return "beta: expected a mean strictly between 0 and 1";
            if (!(b > 0) || b * b >= a * (1 - a))
                return "beta: expected 0 < sd < sqrt(mean (1 - mean)) (a beta with this mean cannot be that wide)";
            return "";
        case Kind::gamma:
        case Kind::lognormal:
            if (!finite || !(a > 0) || !(b > 0)) return std::string(to_string(kind)) + ": expected mean > 0 and sd > 0";
            return "";
        case Kind::normal:
            if (!finite || !(b > 0)) return "normal: expected a finite mean and sd > 0";
            return "";
        case Kind::uniform:
            if (!finite || !(a < b)) return "uniform: expected lower < upper";
            return "";
    }
    return "unknown distribution";
}

double Distribution::quantile(double u) const {
    namespace bm = boost::math;
    u = std::clamp(u, 1e-9, 1.0 - 1e-9);
    switch (kind) {
        case Kind::none:
        case Kind::fixed: return a;
        case Kind::beta: {
            const double k = a * (1 - a) / (b * b) - 1;  // alpha + beta
            return bm::quantile(bm::beta_distribution<double>(a * k, (1 - a) * k), u);
        }
        case Kind::gamma: {
            const double shape = a * a / (b * b), scale = b * b / a;
            return bm::quantile(bm::gamma_distribution<double>(shape, scale), u);
        }
        case Kind::lognormal: {
            const double s2 = std::log1p(b * b / (a * a));
            return bm::quantile(bm::lognormal_distribution<double>(std::log(a) - s2 / 2, std::sqrt(s2)), u);
        }
        case Kind::normal: return bm::quantile(bm::normal_distribution<double>(a, b), u);
        case Kind::uniform: return a + u * (b - a);
    }
    return a;
}

std::string Distribution::text() const {
    std::ostringstream out;
    out.precision(6);
    out << to_string(kind);
    if (kind == Kind::uniform) out << "(" << a << ", " << b << ")";
    else if (drawn()) out << "(mean " << a << ", sd " << b << ")";
    if (guess) out << ", guess";
    return out.str();
}

}  // namespace sim
