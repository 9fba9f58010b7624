// The experiment's [summaries] table: which summary tags are better higher, which lower.
#include "config/summary_rules.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace kiln::runner {

std::vector<std::pair<std::string, std::string>> read_summary_rules(const Config& summaries) {
  std::vector<std::pair<std::string, std::string>> rules;
  for (const auto& [key, direction] : {std::pair<const char*, const char*>{"maximize", "max"}, {"minimize", "min"}}) {
    for (const std::string& pattern : summaries.get_or<std::vector<std::string>>(key, {})) {
      if (pattern.empty())
        summaries.fail(key, "a summary tag must not be empty (write a tag, \"eval/psnr\", or a prefix, \"acc/*\")");
      if (const auto star = pattern.find('*'); star != std::string::npos && star + 1 != pattern.size())
        summaries.fail(key, fmt::format("\"{}\" has a '*' before its end; write a tag (\"eval/psnr\") or a prefix "
                                        "ending in '*' (\"acc/*\")",
                                        pattern));
      const auto same = std::find_if(rules.begin(), rules.end(), [&](const auto& rule) { return rule.first == pattern; });
      if (same == rules.end()) {
        rules.emplace_back(pattern, direction);
      } else if (same->second != direction) {
        summaries.fail(key, fmt::format("\"{}\" is in both maximize and minimize; keep it in one", pattern));
      }
    }
  }
  return rules;
}

std::optional<std::pair<std::string, std::string>> summary_rule_for(
    const std::vector<std::pair<std::string, std::string>>& rules, const std::string& tag) {
  std::optional<std::pair<std::string, std::string>> found;
  std::size_t found_length = 0;
  for (const auto& rule : rules) {
    const std::string& pattern = rule.first;
    if (pattern == tag) return rule;
    if (pattern.back() != '*') continue;
    const std::size_t prefix = pattern.size() - 1;
    if (tag.compare(0, prefix, pattern, 0, prefix) == 0 && (!found || prefix > found_length)) {
      found = rule;
      found_length = prefix;
    }
  }
  return found;
}

}  // namespace kiln::runner
