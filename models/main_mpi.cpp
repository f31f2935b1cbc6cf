// The therasim-mpi executable (-DTHERASIM_MPI=ON): the engine's MPI launcher with the therasim
// model plugged in (sim/mpi.hpp).
#include "models/therasim_model.hpp"
#include "sim/mpi.hpp"

int main(int argc, char** argv) { return sim::mpi_main(argc, argv, models::make_model); }
