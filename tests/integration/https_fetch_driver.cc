// Test driver for the MTA-STS policy fetch (src/sts/https_fetch.h): one fetch,
// the result as one JSON object on stdout. Used by https_fetch_test.py against
// hostile local servers.
//   https_fetch_driver HOST PORT CA_FILE TIMEOUT_MS ADDRESS...
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "sts/https_fetch.h"

namespace {

boost::asio::awaitable<void> run(danekit::HttpsFetchRequest req) {
  auto r = co_await danekit::https_fetch(std::move(req));
  nlohmann::json j = {{"outcome", danekit::to_string(r.outcome)},
                      {"address", r.address},
                      {"status", r.status},
                      {"content_type", r.content_type},
                      {"location", r.location},
                      {"body", r.body},
                      {"tls_version", r.tls_version},
                      {"detail", r.detail},
                      {"elapsed_ms", r.elapsed.count()}};
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s HOST PORT CA_FILE TIMEOUT_MS ADDRESS...\n", argv[0]);
    return 64;
  }
  try {
    danekit::HttpsFetchRequest req;
    req.host = argv[1];
    req.port = static_cast<std::uint16_t>(std::stoi(argv[2]));
    req.ca_file = argv[3];
    req.timeout = std::chrono::milliseconds(std::stoi(argv[4]));
    for (int i = 5; i < argc; ++i) req.addresses.emplace_back(argv[i]);
    boost::asio::io_context io;
    boost::asio::co_spawn(io, run(std::move(req)), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "https_fetch_driver: %s\n", e.what());
    return 70;
  }
  return 0;
}
