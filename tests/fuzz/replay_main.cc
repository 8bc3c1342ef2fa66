// Runs a fuzz target without libFuzzer: every file given on the command line
// (or in the directories given), then a fixed number of deterministic random
// mutations of them. Built into every CI run; with -DDANEKIT_FUZZ=ON and clang
// the same targets link against libFuzzer instead.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> inputs;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) files.push_back(e.path());
    } else {
      files.push_back(p);
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  inputs.emplace_back();
  std::mt19937 rng(7672);
  std::size_t runs = 0;
  for (const auto& seed : inputs) {
    LLVMFuzzerTestOneInput(seed.data(), seed.size());
    ++runs;
    for (int m = 0; m < 2000; ++m) {
      auto x = seed;
      int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits; ++e) {
        switch (rng() % 4) {
          case 0:
            if (!x.empty()) x[rng() % x.size()] = static_cast<std::uint8_t>(rng());
            break;
          case 1:
            x.insert(x.begin() + static_cast<long>(x.empty() ? 0 : rng() % x.size()), static_cast<std::uint8_t>(rng()));
            break;
          case 2:
            if (!x.empty()) x.erase(x.begin() + static_cast<long>(rng() % x.size()));
            break;
          case 3:
            if (!x.empty()) x.resize(rng() % x.size());
            break;
        }
      }
      LLVMFuzzerTestOneInput(x.data(), x.size());
      ++runs;
    }
  }
  std::printf("replayed %zu inputs from %zu seeds\n", runs, inputs.size());
  return 0;
}
