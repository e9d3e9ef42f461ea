// libFuzzer target: the config loader (src/core/config.cpp), TOML parsing and
// validation of every known section, then the accessors that read them.
#include "fuzz_input.hpp"

#include <crm/config.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = crm_fuzz::write_input(data, size, ".toml");
  try {
    crm::ConfigLocation location;
    location.path = path;
    location.named = true;
    const crm::Config config = crm::Config::load(location);
    (void)config.database_path();
    (void)config.busy_timeout_ms();
    (void)config.default_format();
    (void)config.dedupe_survivor();
    (void)config.owners();
    (void)config.settings();
    (void)config.import_profile("default");
    (void)config.journey();
  } catch (const crm::Error& e) {
    crm_fuzz::check_error(e);
  }
  return 0;
}
