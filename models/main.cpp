// The therasim executable: the engine's command line with the therasim model plugged in.
#include "models/therasim_model.hpp"
#include "sim/cli.hpp"

int main(int argc, char** argv) { return sim::cli_main(argc, argv, models::make_model); }
