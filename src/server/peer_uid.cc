#include "src/server/peer_uid.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace tbprof::internal {
namespace {

bool ParseUnsigned(std::string_view s, int base, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = v * base + static_cast<uint64_t>(d);
    if (v > max) return false;
  }
  *out = v;
  return true;
}

// The port of "<hex address>:<hex port>" (a /proc/net/tcp address column).
std::optional<int> HexPort(std::string_view column) {
  size_t colon = column.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  uint64_t port = 0;
  if (!ParseUnsigned(column.substr(colon + 1), 16, 65535, &port)) return std::nullopt;
  return static_cast<int>(port);
}

std::string ReadWhole(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::optional<int> LoopbackPeerPort(std::string_view peer) {
  std::string address;
  if (peer.substr(0, 5) == "ipv4:") {
    peer.remove_prefix(5);
  } else if (peer.substr(0, 5) == "ipv6:") {
    peer.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  size_t colon = peer.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  uint64_t port = 0;
  if (!ParseUnsigned(peer.substr(colon + 1), 10, 65535, &port) || port == 0) return std::nullopt;
  std::string host(peer.substr(0, colon));
  for (const char* encoded : {"%5B", "%5b", "%5D", "%5d"}) {
    for (size_t at; (at = host.find(encoded)) != std::string::npos;) {
      host.replace(at, 3, encoded[2] == 'B' || encoded[2] == 'b' ? "[" : "]");
    }
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.substr(0, 7) == "::ffff:") host = host.substr(7);
  const bool loopback = host == "::1" || host.substr(0, 4) == "127.";
  if (!loopback) return std::nullopt;
  return static_cast<int>(port);
}

std::optional<uid_t> FindSocketUid(std::string_view text, int local_port, int remote_port) {
  size_t line_start = text.find('\n');  // The first line is the header.
  while (line_start != std::string_view::npos && line_start < text.size()) {
    size_t line_end = text.find('\n', line_start + 1);
    std::string_view line =
        text.substr(line_start + 1, line_end == std::string_view::npos ? std::string_view::npos
                                                                       : line_end - line_start - 1);
    line_start = line_end;
    // Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    std::string_view columns[8];
    int n = 0;
    size_t at = 0;
    while (n < 8 && at < line.size()) {
      while (at < line.size() && line[at] == ' ') ++at;
      size_t end = line.find(' ', at);
      if (end == std::string_view::npos) end = line.size();
      if (end > at) columns[n++] = line.substr(at, end - at);
      at = end;
    }
    if (n < 8) continue;
    std::optional<int> local = HexPort(columns[1]);
    std::optional<int> remote = HexPort(columns[2]);
    if (!local || !remote || *local != local_port || *remote != remote_port) continue;
    uint64_t uid = 0;
    if (!ParseUnsigned(columns[7], 10, 0xffffffffu, &uid)) return std::nullopt;
    return static_cast<uid_t>(uid);
  }
  return std::nullopt;
}

std::optional<uid_t> PeerUid(std::string_view peer, int server_port) {
  std::optional<int> port = LoopbackPeerPort(peer);
  if (!port) return std::nullopt;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    if (std::optional<uid_t> uid = FindSocketUid(ReadWhole(file), *port, server_port)) return uid;
  }
  return std::nullopt;
}

bool ServesPeer(std::optional<uid_t> peer_uid, uid_t owner, bool allow_any_user) {
  if (allow_any_user) return true;
  return peer_uid.has_value() && (*peer_uid == owner || *peer_uid == 0);
}

}  // namespace tbprof::internal
