// Tiny command-line helpers shared by the tools (header-only: each tool is one file).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/error.h"

namespace loom::cli {

// Runs a tool body, turning every error into one line on stderr and exit code 1.
inline int run_tool(const char* tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error[internal]: out of memory\n", tool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error[internal]: %s\n", tool, e.what());
  }
  return 1;
}

// Arguments as a queue: flags look like --name=value, --name value or -o value.
class Args {
public:
  Args(int argc, char** argv) : args_(argv + 1, argv + argc) {}
  bool empty() const { return pos_ >= args_.size(); }
  std::string next() { return args_[pos_++]; }
  // If the current argument is `flag` (as "--flag=v" or "--flag v"), consumes it and returns v.
  std::optional<std::string> value(std::string_view flag) {
    const std::string& a = args_[pos_];
    if (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=') {
      ++pos_;
      return a.substr(flag.size() + 1);
    }
    if (a == flag) {
      if (pos_ + 1 >= args_.size())
        throw_error(ErrorCode::InvalidArgument, "option " + std::string(flag) + " needs a value");
      pos_ += 2;
      return args_[pos_ - 1];
    }
    return std::nullopt;
  }
  bool flag(std::string_view name) {
    if (args_[pos_] != name) return false;
    ++pos_;
    return true;
  }
  // The current argument as the tool's one model file: an unknown option or a second
  // model is an error.
  void take_model(std::string& model, const char* usage) {
    std::string a = next();
    if (a.starts_with("-"))
      throw_error(ErrorCode::InvalidArgument, "unknown option " + a + "\n" + usage);
    if (!model.empty()) throw_error(ErrorCode::InvalidArgument, "more than one model given");
    model = a;
  }
  static void require_model(const std::string& model, const char* usage) {
    if (model.empty())
      throw_error(ErrorCode::InvalidArgument, std::string("no model given\n") + usage);
  }
  // On --help or -h: prints the usage and exits with 0.
  void exit_on_help(const char* usage) {
    if (!flag("--help") && !flag("-h")) return;
    std::fputs(usage, stdout);
    std::exit(0);
  }

private:
  std::vector<std::string> args_;
  size_t pos_ = 0;
};

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace loom::cli
