#include "tools/summary_report.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/json_writer.h"

namespace tbprof::cli {
namespace {

std::string Ms(int64_t ps) { return absl::StrFormat("%.3f", static_cast<double>(ps) / 1e9); }
std::string Ms(double ps) { return absl::StrFormat("%.3f", ps / 1e9); }
double UsValue(double ps) { return ps / 1e6; }
double UsValue(int64_t ps) { return static_cast<double>(ps) / 1e6; }
std::string Us(int64_t ps) { return absl::StrFormat("%.1f", UsValue(ps)); }

// How many of `total` rows a "top N" listing shows.
size_t Shown(size_t total, int top) { return std::min<size_t>(total, static_cast<size_t>(top)); }

// The mean duration of one execution of a kernel, in microseconds.
double MeanUs(const KernelSummary& k) {
  return UsValue(static_cast<double>(k.total_ps) / static_cast<double>(k.count));
}

// A text table: left-aligned first columns, right-aligned numbers.
class Table {
 public:
  Table(std::vector<std::string> header, std::vector<bool> right_aligned)
      : right_(std::move(right_aligned)) {
    rows_.push_back(std::move(header));
  }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  std::string Render(size_t max_text_width = 60) const {
    std::vector<size_t> widths(rows_[0].size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], std::min(row[i].size(), max_text_width));
      }
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line = " ";
      for (size_t i = 0; i < row.size(); ++i) {
        std::string cell = row[i];
        if (cell.size() > max_text_width)
          cell = "..." + cell.substr(cell.size() - max_text_width + 3);
        const std::string pad(widths[i] - cell.size(), ' ');
        line += ' ';
        line += right_[i] ? pad + cell : cell + pad;
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// "768.0 KiB".
std::string Bytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes >= (int64_t{1} << 30)) return absl::StrFormat("%.1f GiB", b / (1 << 30));
  if (bytes >= (int64_t{1} << 20)) return absl::StrFormat("%.1f MiB", b / (1 << 20));
  if (bytes >= 1024) return absl::StrFormat("%.1f KiB", b / 1024);
  return absl::StrFormat("%d B", bytes);
}

std::string AllocationsTable(const std::vector<MemoryAllocationRow>& rows, size_t n) {
  Table table({"#", "Op", "Tensor", "Bytes", "Requested", "Step", "At ms"},
              {true, false, false, true, true, true, true});
  for (size_t i = 0; i < n; ++i) {
    const MemoryAllocationRow& r = rows[i];
    table.Add({std::to_string(i + 1), r.op.empty() ? "-" : r.op, r.tensor.empty() ? "-" : r.tensor,
               std::to_string(r.bytes), std::to_string(r.requested_bytes),
               r.step < 0 ? "-" : std::to_string(r.step), Ms(r.time_ps)});
  }
  return table.Render();
}

void MemoryText(const ProfileSummary& p, int top, std::string* out) {
  if (p.memory.empty()) return;
  absl::StrAppend(out, "\nMemory: ", p.memory.size(), " allocator(s)\n");
  for (const AllocatorMemorySummary& a : p.memory) {
    absl::StrAppend(out, "  \"", a.name, "\": peak ", Bytes(a.peak_bytes), " (", a.peak_bytes,
                    " bytes) at ", Ms(a.peak_time_ps), " ms");
    if (a.peak_step >= 0) absl::StrAppend(out, ", step ", a.peak_step);
    if (!a.peak_op.empty()) absl::StrAppend(out, ", op ", a.peak_op);
    absl::StrAppend(out, "; capacity ", Bytes(a.capacity_bytes), ", fragmentation ",
                    absl::StrFormat("%.1f", 100 * a.fragmentation), "%; ", a.allocations,
                    " allocation(s), ", a.frees, " free(s)\n");
    const size_t n = Shown(a.alive_at_peak.size(), top);
    absl::StrAppend(out, "  Alive at the peak, largest first, ", n, " of ", a.alive_at_peak.size(),
                    "\n");
    if (n > 0) absl::StrAppend(out, AllocationsTable(a.alive_at_peak, n));
    if (a.leaks.empty()) {
      absl::StrAppend(out, "  Leaks: none (every allocation of the capture was freed in it)\n");
    } else {
      const size_t nl = Shown(a.leaks.size(), top);
      absl::StrAppend(out, "  Leaks: ", a.leaks.size(), " allocation(s), ", a.leaked_bytes,
                      " bytes, allocated in the capture and never freed; first ", nl, "\n");
      absl::StrAppend(out, AllocationsTable(a.leaks, nl));
    }
  }
}

void MemoryJsonRows(JsonWriter& json, const std::vector<MemoryAllocationRow>& rows, size_t n) {
  json.BeginArray();
  for (size_t i = 0; i < n; ++i) {
    const MemoryAllocationRow& r = rows[i];
    json.BeginObject();
    json.Key("op");
    json.String(r.op);
    json.Key("tensor");
    json.String(r.tensor);
    json.Key("bytes");
    json.Int(r.bytes);
    json.Key("requested_bytes");
    json.Int(r.requested_bytes);
    json.Key("step");
    json.Int(r.step);
    json.Key("time_us");
    json.Double(UsValue(r.time_ps));
    json.EndObject();
  }
  json.EndArray();
}

void MemoryJson(JsonWriter& json, const ProfileSummary& p, int top) {
  json.Key("memory");
  json.BeginArray();
  for (const AllocatorMemorySummary& a : p.memory) {
    json.BeginObject();
    json.Key("allocator");
    json.String(a.name);
    json.Key("peak_bytes");
    json.Int(a.peak_bytes);
    json.Key("peak_us");
    json.Double(UsValue(a.peak_time_ps));
    json.Key("peak_step");
    json.Int(a.peak_step);
    json.Key("peak_op");
    json.String(a.peak_op);
    json.Key("capacity_bytes");
    json.Int(a.capacity_bytes);
    json.Key("fragmentation");
    json.Double(a.fragmentation, 4);
    json.Key("allocations");
    json.Int(a.allocations);
    json.Key("frees");
    json.Int(a.frees);
    json.Key("alive_at_peak_total");
    json.Int(static_cast<int64_t>(a.alive_at_peak.size()));
    json.Key("alive_at_peak");
    MemoryJsonRows(json, a.alive_at_peak, Shown(a.alive_at_peak.size(), top));
    json.Key("leaks_total");
    json.Int(static_cast<int64_t>(a.leaks.size()));
    json.Key("leaked_bytes");
    json.Int(a.leaked_bytes);
    json.Key("leaks");
    MemoryJsonRows(json, a.leaks, Shown(a.leaks.size(), top));
    json.EndObject();
  }
  json.EndArray();
}

void ProfileText(const ProfileSummary& p, int top, std::string* out) {
  absl::StrAppend(out, "\nProfile of host \"", p.host, "\" (", p.file, ")\n");
  absl::StrAppend(out, "  duration ", Ms(p.duration_ps), " ms, ", p.host_threads,
                  " host thread(s), ", p.host_events, " host events, ", p.gpus, " GPU(s), ",
                  p.device_events, " device events\n");

  const size_t nops = Shown(p.ops.size(), top);
  absl::StrAppend(out, "\nTop ops by self time (host self + device), ", nops, " of ", p.ops.size(),
                  "\n");
  if (p.ops.empty()) {
    absl::StrAppend(out,
                    "  (no framework ops: no \"scope/name:Type\" events and no tf_op stats)\n");
  } else {
    double total = 0;  // In double: sums of int64 times can overflow.
    for (const OpSummary& op : p.ops) {
      total += static_cast<double>(op.host_self_ps) + static_cast<double>(op.device_ps);
    }
    Table table(
        {"#", "Op", "Type", "Count", "Host total us", "Host self us", "Device us", "Self %"},
        {true, false, false, true, true, true, true, true});
    for (size_t i = 0; i < nops; ++i) {
      const OpSummary& op = p.ops[i];
      const double self = static_cast<double>(op.host_self_ps) + static_cast<double>(op.device_ps);
      table.Add({std::to_string(i + 1), op.name, op.type, std::to_string(op.count),
                 Us(op.host_total_ps), Us(op.host_self_ps), Us(op.device_ps),
                 total > 0 ? absl::StrFormat("%.1f", 100.0 * self / total) : "0.0"});
    }
    absl::StrAppend(out, table.Render());
  }

  const size_t nk = Shown(p.kernels.size(), top);
  if (p.gpus > 0 || !p.kernels.empty()) {
    absl::StrAppend(out, "\nTop GPU kernels by total time, ", nk, " of ", p.kernels.size(), "\n");
    if (p.kernels.empty()) {
      absl::StrAppend(out, "  (no kernels)\n");
    } else {
      Table table({"#", "Kernel", "Op", "Count", "Total us", "Mean us", "Min us", "Max us", "Grid",
                   "Block", "Regs", "Occ %"},
                  {true, false, false, true, true, true, true, true, false, false, true, true});
      for (size_t i = 0; i < nk; ++i) {
        const KernelSummary& k = p.kernels[i];
        table.Add({std::to_string(i + 1), k.name, k.op.empty() ? "-" : k.op,
                   std::to_string(k.count), Us(k.total_ps), absl::StrFormat("%.1f", MeanUs(k)),
                   Us(k.min_ps), Us(k.max_ps), k.grid, k.block, std::to_string(k.registers),
                   absl::StrFormat("%.1f", k.occupancy_pct)});
      }
      absl::StrAppend(out, table.Render());
    }
  }

  StepStats stats = ComputeStepStats(p.steps);
  if (stats.count == 0) {
    absl::StrAppend(out, "\nSteps: none\n");
  } else {
    absl::StrAppend(out, "\nSteps: ", stats.count, ", mean ", Ms(stats.mean_ps), " ms, min ",
                    Ms(stats.min_ps), " ms, max ", Ms(stats.max_ps), " ms\n");
    Table table({"Step", "Name", "Start ms", "Duration ms"}, {true, false, true, true});
    for (const StepSummary& s : p.steps) {
      table.Add({std::to_string(s.step), s.name, Ms(s.start_ps), Ms(s.duration_ps)});
    }
    absl::StrAppend(out, table.Render());
  }

  MemoryText(p, top, out);

  if (!p.warnings.empty()) {
    absl::StrAppend(out, "\nWarnings\n");
    for (const std::string& w : p.warnings) absl::StrAppend(out, "  - ", w, "\n");
  }
}

}  // namespace

std::string FormatSummaryText(const SummaryReport& report, int top) {
  std::string out;
  if (report.session.empty() && !report.profiles.empty()) {
    // One .xplane.pb file given directly: it is not looked up as a session.
    absl::StrAppend(&out, "Profile file ", report.profiles[0].file, "\n");
  } else if (report.session.empty()) {
    absl::StrAppend(&out, "No profile session under ", report.logdir,
                    " (expected <run>/plugins/profile/<session>/<host>.xplane.pb)\n");
  } else {
    absl::StrAppend(&out, "Profile session ", report.session, " of run \"", report.run, "\" (",
                    report.session_dir, "), ", report.profiles.size(), " host(s)\n");
  }
  for (const ProfileSummary& p : report.profiles) ProfileText(p, top, &out);
  absl::StrAppend(&out, "\nEvent files: ", report.event_files.size(), "\n");
  for (const EventFileSummary& e : report.event_files) {
    absl::StrAppend(&out, "  ", e.path, ": ", e.records, " records, ", e.graphs, " graph(s), ",
                    e.run_metadata, " run metadata, ", e.summaries, " other summaries");
    if (!e.tags.empty()) absl::StrAppend(&out, "; tags: ", absl::StrJoin(e.tags, ", "));
    if (!e.error.empty()) absl::StrAppend(&out, "; ERROR: ", e.error);
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string FormatSummaryJson(const SummaryReport& report, int top) {
  JsonWriter json;
  json.BeginObject();
  json.Key("format");
  json.String("tbprof.summary.v1");
  json.Key("logdir");
  json.String(report.logdir);
  json.Key("run");
  json.String(report.run);
  json.Key("session");
  json.String(report.session);
  json.Key("session_dir");
  json.String(report.session_dir);
  json.Key("profiles");
  json.BeginArray();
  for (const ProfileSummary& p : report.profiles) {
    json.BeginObject();
    json.Key("file");
    json.String(p.file);
    json.Key("host");
    json.String(p.host);
    json.Key("duration_us");
    json.Double(UsValue(p.duration_ps));
    json.Key("host_threads");
    json.Int(p.host_threads);
    json.Key("host_events");
    json.Int(p.host_events);
    json.Key("gpus");
    json.Int(p.gpus);
    json.Key("device_events");
    json.Int(p.device_events);
    json.Key("ops_total");
    json.Int(static_cast<int64_t>(p.ops.size()));
    json.Key("ops");
    json.BeginArray();
    for (size_t i = 0; i < Shown(p.ops.size(), top); ++i) {
      const OpSummary& op = p.ops[i];
      json.BeginObject();
      json.Key("name");
      json.String(op.name);
      json.Key("type");
      json.String(op.type);
      json.Key("count");
      json.Int(op.count);
      json.Key("host_total_us");
      json.Double(UsValue(op.host_total_ps));
      json.Key("host_self_us");
      json.Double(UsValue(op.host_self_ps));
      json.Key("device_us");
      json.Double(UsValue(op.device_ps));
      json.Key("device_events");
      json.Int(op.device_events);
      json.EndObject();
    }
    json.EndArray();
    json.Key("kernels_total");
    json.Int(static_cast<int64_t>(p.kernels.size()));
    json.Key("kernels");
    json.BeginArray();
    for (size_t i = 0; i < Shown(p.kernels.size(), top); ++i) {
      const KernelSummary& k = p.kernels[i];
      json.BeginObject();
      json.Key("name");
      json.String(k.name);
      json.Key("op");
      json.String(k.op);
      json.Key("count");
      json.Int(k.count);
      json.Key("total_us");
      json.Double(UsValue(k.total_ps));
      json.Key("mean_us");
      json.Double(MeanUs(k));
      json.Key("min_us");
      json.Double(UsValue(k.min_ps));
      json.Key("max_us");
      json.Double(UsValue(k.max_ps));
      json.Key("grid");
      json.String(k.grid);
      json.Key("block");
      json.String(k.block);
      json.Key("registers");
      json.Int(k.registers);
      json.Key("occupancy_pct");
      json.Double(k.occupancy_pct, 1);
      json.EndObject();
    }
    json.EndArray();
    StepStats stats = ComputeStepStats(p.steps);
    json.Key("steps");
    json.BeginObject();
    json.Key("count");
    json.Int(stats.count);
    json.Key("mean_us");
    json.Double(UsValue(stats.mean_ps));
    json.Key("min_us");
    json.Double(UsValue(stats.min_ps));
    json.Key("max_us");
    json.Double(UsValue(stats.max_ps));
    json.Key("items");
    json.BeginArray();
    for (const StepSummary& s : p.steps) {
      json.BeginObject();
      json.Key("step");
      json.Int(s.step);
      json.Key("name");
      json.String(s.name);
      json.Key("start_us");
      json.Double(UsValue(s.start_ps));
      json.Key("duration_us");
      json.Double(UsValue(s.duration_ps));
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
    json.Key("warnings");
    json.BeginArray();
    for (const std::string& w : p.warnings) json.String(w);
    json.EndArray();
    MemoryJson(json, p, top);
    json.EndObject();
  }
  json.EndArray();
  json.Key("event_files");
  json.BeginArray();
  for (const EventFileSummary& e : report.event_files) {
    json.BeginObject();
    json.Key("path");
    json.String(e.path);
    json.Key("records");
    json.Int(e.records);
    json.Key("graphs");
    json.Int(e.graphs);
    json.Key("run_metadata");
    json.Int(e.run_metadata);
    json.Key("summaries");
    json.Int(e.summaries);
    json.Key("tags");
    json.BeginArray();
    for (const std::string& t : e.tags) json.String(t);
    json.EndArray();
    json.Key("error");
    json.String(e.error);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return json.Finish();
}

}  // namespace tbprof::cli
