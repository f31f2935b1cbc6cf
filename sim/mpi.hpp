#pragma once
/// @file mpi.hpp
/// The MPI launcher (`therasim-mpi`, built with -DTHERASIM_MPI=ON): `mpirun -np N therasim-mpi run
/// SCENARIO -o FILE [run options]` runs shard K/N of the scenario on rank K with all its
/// threads (OUT.shard-K-of-N.h5), and rank 0 then merges the N shards into FILE and removes
/// them: the file one process writes. No rank only coordinates; HDF5 stays serial (each rank
/// writes its own file). A rank that fails aborts the job; its finished runs stay in its
/// shard's work folder, and the same command resumes (docs/cluster.md).

#include "sim/model.hpp"

namespace sim {

/// Runs the MPI launcher. Never throws; returns the process exit code (MPI_Abort on failure).
int mpi_main(int argc, char** argv, const ModelFactory& factory);

}  // namespace sim
