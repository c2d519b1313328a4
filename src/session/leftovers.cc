// Clean-up of what a killed export left behind (see RemoveExportLeftovers in export_steps.h).
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/session/export_steps.h"
#include "src/util/file_util.h"

namespace tbprof::internal {
namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
  }
  closedir(d);
  return out;
}

// True when `pid` names no running process (another user's process counts as running).
bool PidIsGone(std::string_view digits) {
  if (digits.empty() || digits.size() > 9) return false;
  int64_t pid = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    pid = pid * 10 + (c - '0');
  }
  if (pid <= 0) return false;
  if (pid == getpid()) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// The pid in "<prefix><pid>[.<rest>]", or "".
std::string_view PidAfter(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return {};
  name.remove_prefix(prefix.size());
  return name.substr(0, name.find('.'));
}

void RemoveTree(const std::string& path, int* removed) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    for (const std::string& n : ListDir(path)) RemoveTree(JoinPath(path, n), removed);
    if (rmdir(path.c_str()) == 0) ++*removed;
  } else if (unlink(path.c_str()) == 0) {
    ++*removed;
  }
}

// Removes `dir`'s entries named <prefix><dead pid>...
void RemoveTempEntries(const std::string& dir, int* removed) {
  for (const std::string& n : ListDir(dir)) {
    if (PidIsGone(PidAfter(n, kExportTempPrefix))) RemoveTree(JoinPath(dir, n), removed);
  }
}

// An event file holding the file-version record only (or nothing): no data for a reader.
bool HoldsNoRecord(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (st.st_size == 0) return true;
  if (st.st_size > 4096) return false;
  std::string bytes;
  if (!ReadFile(path, &bytes).ok() || bytes.size() < 16) return bytes.size() < 16;
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  return length + 16 >= bytes.size();
}

}  // namespace

int RemoveExportLeftovers(const std::string& run_dir) {
  int removed = 0;
  RemoveTempEntries(run_dir, &removed);
  const std::string plugins = JoinPath(run_dir, "plugins");
  RemoveTempEntries(plugins, &removed);
  // Session directories of older versions, or an interrupted WriteFileAtomically.
  const std::string root = JoinPath(plugins, "profile");
  for (const std::string& session : ListDir(root)) {
    const std::string dir = JoinPath(root, session);
    bool cleaned = false;
    for (const std::string& n : ListDir(dir)) {
      size_t at = n.rfind(".tmp.");
      if (at == std::string::npos) continue;
      if (!PidIsGone(std::string_view(n).substr(at + 5))) continue;
      if (unlink(JoinPath(dir, n).c_str()) == 0) {
        ++removed;
        cleaned = true;
      }
    }
    if (cleaned && rmdir(dir.c_str()) == 0) ++removed;  // Only when nothing else is left.
  }
  // This host's event files of dead processes with no record: "...tfevents.<s>.<host>.<pid>..."
  const std::string host_part = absl::StrCat(".", Hostname(), ".");
  for (const std::string& n : ListDir(run_dir)) {
    const std::string_view v = n;
    if (v.substr(0, 20) != "events.out.tfevents." || v.size() < 7 ||
        v.substr(v.size() - 7) != ".tbprof") {
      continue;
    }
    size_t at = n.find(host_part);
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(n).substr(at + host_part.size());
    if (!PidIsGone(rest.substr(0, rest.find('.')))) continue;
    const std::string path = JoinPath(run_dir, n);
    if (HoldsNoRecord(path) && unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace tbprof::internal
