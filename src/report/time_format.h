#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace danekit {

// "2026-11-23T19:38:00Z"
inline std::string iso8601(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace danekit
