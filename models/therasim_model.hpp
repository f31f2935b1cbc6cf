#pragma once
// The therasim behavioural model: patients, clinicians, families, teams and trusts, the
// relationship as dyad state, the engagement-adherence-change cascade and DIALOG.

#include "sim/model.hpp"

#include <memory>

namespace models {

struct Ctx;

class TherasimModel final : public sim::Model {
public:
    TherasimModel();
    ~TherasimModel() override;
    void declare(sim::Schema& schema) const override;
    void check(const sim::Scenario& scenario) const override;
    [[nodiscard]] std::size_t estimate_bytes(const sim::Params& params) const override;
    [[nodiscard]] std::size_t estimate_traced_agents(const sim::Params& params) const override;
    [[nodiscard]] std::size_t estimate_groups(const sim::Schema& schema, const sim::Params& params) const override;
    void init(sim::World& world) override;
    void start_reporting(sim::World& world) override;
    [[nodiscard]] std::vector<sim::Phase> phases() override;
    void finalize(sim::World& world) override;
    [[nodiscard]] std::vector<std::string> traced_agents() const override { return {"patient", "dyad"}; }
    /// Targets inside from docs/validation.md (models/calibration_status.hpp), for the run's
    /// hypothesis; says so when the run changes a fitted parameter or the record is out of date.
    [[nodiscard]] std::string calibration_status(const sim::Schema& schema, const sim::Params& params) const override;
    /// The run's context (valid after init), for tests.
    [[nodiscard]] Ctx& context() { return *ctx_; }

private:
    std::unique_ptr<Ctx> ctx_;
};

/// Creates the model (the factory the CLI and tests use).
std::unique_ptr<sim::Model> make_model();

}  // namespace models
