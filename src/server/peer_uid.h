// Who is on the other end of a loopback TCP connection: the capture server serves only the
// program's owner, and TensorBoard's Capture Profile button (gRPC over TCP, no credentials)
// must keep working for that owner. The kernel knows each socket's owner: the client's socket
// (local port = the peer's port, remote port = the server's) is a line of /proc/net/tcp or
// /proc/net/tcp6 whose uid column is the client's user.
#ifndef TBPROF_SRC_SERVER_PEER_UID_H_
#define TBPROF_SRC_SERVER_PEER_UID_H_

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace tbprof::internal {

// The port of a gRPC peer string ("ipv4:127.0.0.1:54321", "ipv6:[::1]:54321", also with the
// brackets percent-encoded) when its address is a loopback address; nullopt otherwise
// (another form, a non-loopback address, a bad port).
std::optional<int> LoopbackPeerPort(std::string_view peer);

// In the text of /proc/net/tcp or /proc/net/tcp6, the uid of the socket whose local port is
// `local_port` and remote port is `remote_port`; nullopt when no line matches or the text is
// not in that format. Pure.
std::optional<uid_t> FindSocketUid(std::string_view proc_net_tcp, int local_port, int remote_port);

// The uid of the client that connected from `peer` to this process's server on `server_port`,
// looked up in /proc/net/tcp and /proc/net/tcp6; nullopt when it cannot be known (not a
// loopback peer, the socket is gone, or the client is in another network namespace).
std::optional<uid_t> PeerUid(std::string_view peer, int server_port);

// Whether the capture server serves a client of `peer_uid` (nullopt: unknown): every client
// when `allow_any_user`; else only `owner` and root (who can read the process anyway).
bool ServesPeer(std::optional<uid_t> peer_uid, uid_t owner, bool allow_any_user);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SERVER_PEER_UID_H_
