// The MPI launcher: every rank runs its shard through the ordinary command line (sim/cli.cpp),
// rank 0 merges (sim/merge.cpp). See sim/mpi.hpp and docs/cluster.md.

#include "sim/mpi.hpp"

#include "sim/cli.hpp"

#include <mpi.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace sim {

namespace {

constexpr const char* USAGE = R"(usage: mpirun -np N therasim-mpi run SCENARIO -o FILE [therasim run options]

Runs shard K of N of the scenario on rank K (therasim run ... -o FILE.shard-K-of-N.h5 --shard K/N,
with all the rank's threads unless --threads is given), then rank 0 merges the N shard files into
FILE (therasim merge) and removes them: the same file one process writes. The scenario needs at
least N runs (replicates x sweep points). If a rank fails the job is aborted; finished runs stay in
FILE.shard-K-of-N.h5.partial-run/ and the same command resumes them. One rank per node; every
path on a shared file system. See docs/cluster.md.
)";

/// Calls the command line with @p args as argv[1..].
int cli(const std::vector<std::string>& args, const ModelFactory& factory) {
    std::vector<std::string> store = {"therasim"};
    store.insert(store.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : store) argv.push_back(s.data());
    argv.push_back(nullptr);
    return cli_main(static_cast<int>(store.size()), argv.data(), factory);
}

std::string shard_path(const std::string& out, int k, int n) {
    const std::string stem = out.size() > 3 && out.compare(out.size() - 3, 3, ".h5") == 0 ? out.substr(0, out.size() - 3) : out;
    return stem + ".shard-" + std::to_string(k) + "-of-" + std::to_string(n) + ".h5";
}

int run(int rank, int size, std::vector<std::string> args, const ModelFactory& factory) {
    // args: run SCENARIO ... -o FILE ...: the output is replaced by the rank's shard.
    std::string out;
    bool overwrite = false, quiet = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size()) {
            out = args[i + 1];
            args[++i] = shard_path(out, rank, size);
        } else if (args[i] == "--overwrite") {
            overwrite = true;
        } else if (args[i] == "--quiet") {
            quiet = true;
        } else if (args[i] == "--shard") {
            if (rank == 0) std::cerr << "therasim-mpi: error: the ranks are the shards; do not give --shard\n";
            return EXIT_INVALID_INPUT;
        }
    }
    if (out.empty()) {
        if (rank == 0) std::cerr << "therasim-mpi: error: run needs -o FILE\n" << USAGE;
        return EXIT_INVALID_INPUT;
    }
    const std::string part = shard_path(out, rank, size);
    args.insert(args.end(), {"--shard", std::to_string(rank) + "/" + std::to_string(size)});
    if (rank != 0 && !quiet) args.push_back("--quiet");  // one progress display: rank 0's
    // The result must not exist (unless --overwrite), checked on every rank before any work.
    if (!overwrite && std::filesystem::exists(out)) {
        if (rank == 0) std::cerr << "therasim-mpi: error: '" << out << "' exists; give --overwrite to replace it\n";
        return EXIT_INVALID_INPUT;
    }
    const int rc = cli(args, factory);
    if (rc != EXIT_OK) {
        std::cerr << "therasim-mpi: rank " << rank << " of " << size << " failed (exit " << rc
                  << "); finished runs are kept in " << part << ".partial-run/: the same command resumes them\n";
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    int merged = EXIT_OK;
    if (rank == 0) {
        std::vector<std::string> m = {"merge", "-o", out};
        if (overwrite) m.push_back("--overwrite");
        if (quiet) m.push_back("--quiet");
        for (int k = 0; k < size; ++k) m.push_back(shard_path(out, k, size));
        merged = cli(m, factory);
        if (merged == EXIT_OK)
            for (int k = 0; k < size; ++k) std::filesystem::remove(shard_path(out, k, size));
    }
    MPI_Bcast(&merged, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return merged;
}

}  // namespace

int mpi_main(int argc, char** argv, const ModelFactory& factory) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::vector<std::string> args(argv + 1, argv + argc);
    int rc = EXIT_OK;
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        if (rank == 0) (args.empty() ? std::cerr : std::cout) << USAGE;
        rc = args.empty() ? EXIT_INVALID_INPUT : EXIT_OK;
    } else if (args[0] != "run") {
        if (rank == 0) std::cerr << "therasim-mpi: error: only 'run' is distributed; use therasim for '" << args[0] << "'\n" << USAGE;
        rc = EXIT_INVALID_INPUT;
    } else {
        try {
            rc = run(rank, size, args, factory);
        } catch (const std::exception& e) {
            std::cerr << "therasim-mpi: rank " << rank << ": " << e.what() << "\n";
            MPI_Abort(MPI_COMM_WORLD, EXIT_RUN_FAILED);
        }
    }
    MPI_Finalize();
    return rc;
}

}  // namespace sim
