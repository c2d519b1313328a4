// `tbprof validate`: checks tbprof output against every rule of spec/tensorboard-formats.md
// that TensorBoard (Graphs tab) and its profile plugin rely on. Each violation names the file,
// the place inside it and the rule; the rule ids are listed in docs/cli.md.
#ifndef TBPROF_TOOLS_VALIDATE_H_
#define TBPROF_TOOLS_VALIDATE_H_

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tensorflow/event.pb.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tools/logdir.h"

namespace tbprof::cli {

struct Violation {
  std::string file;
  std::string where;  // "plane \"/host:CPU\" line 7 \"main\" event 3 \"x:Y\"", or "" for the file.
  std::string rule;   // Stable id, e.g. "xplane.nesting".
  std::string message;  // What is wrong, with the values seen.
  // A note rather than a violation: one of tbprof's own writing conventions, not followed by a
  // file another producer wrote (TensorBoard and xprof read it all the same).
  bool note = false;
};

// True for the rules that are tbprof's own writing conventions (stricter than what TensorBoard
// and xprof need): stat types, nesting, event order, plane names, Task Environment, step
// markers, one function graph with step stats... False for what the readers rely on (decoding,
// layout, record framing, metadata references, summaries).
bool IsConventionRule(std::string_view rule);

// True when the profile looks written by tbprof: only the planes and stats tbprof writes.
bool IsTbprofXSpace(const tensorflow::profiler::XSpace& space);

// True when the event file is one tbprof writes (name ending in ".tbprof").
bool IsTbprofEventFile(const std::string& path);

struct ValidateOptions {
  // Apply tbprof's conventions to every file, not only to those tbprof wrote.
  bool strict = false;
};

// Collects violations, at most kMaxPerRule per (file, rule) plus one "... more" line.
class Violations {
 public:
  static constexpr int kMaxPerRule = 20;

  void Add(const std::string& file, std::string where, std::string rule, std::string message);
  const std::vector<Violation>& list() const { return list_; }
  bool empty() const { return list_.empty(); }
  // Violations that are not notes.
  int64_t errors() const;
  int64_t notes() const { return static_cast<int64_t>(list_.size()) - errors(); }
  // Turns the convention-rule violations of `file` recorded so far into notes.
  void MarkConventionsAsNotes(const std::string& file);

  // Appends the "... and N more" notes; call once at the end.
  void Finish();

 private:
  std::vector<Violation> list_;
  std::vector<std::pair<std::string, int64_t>> counts_;  // (file + rule, count)
  std::set<std::string> foreign_files_;                  // Given to MarkConventionsAsNotes.
};

// The rules of one decoded XSpace (planes, names, ids, stat types, times, nesting...).
void ValidateXSpace(const tensorflow::profiler::XSpace& space, const std::string& file,
                    Violations* out);

// The rules of one profile file: its name and place, then its content.
void ValidateXplaneFile(const std::string& path, bool in_session_dir, std::ostream& err,
                        bool err_is_tty, Violations* out);
// The same; without options.strict, a file tbprof did not write gets notes for the
// conventions it does not follow.
void ValidateXplaneFile(const std::string& path, bool in_session_dir, std::ostream& err,
                        bool err_is_tty, const ValidateOptions& options, Violations* out);

// The rules on the records of one event file once decoded: `events[i]` is record i. The
// record framing (lengths, CRCs) is checked by whoever decoded them.
void ValidateEvents(const std::vector<tensorflow::Event>& events, const std::string& file,
                    Violations* out);

// The rule on event file names: "events.out.tfevents.<10-digit seconds>.<host>[suffix]".
void ValidateEventFileName(const std::string& path, Violations* out);

// Everything found in a log directory.
void ValidateLogdir(const LogdirContents& contents, std::ostream& err, bool err_is_tty,
                    Violations* out, const ValidateOptions& options = {});

// "1. file: where: [rule] message" lines for the violations, then "note: ..." lines.
std::string FormatViolations(const Violations& violations);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_VALIDATE_H_
