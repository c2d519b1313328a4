#include "src/util/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "src/util/strings.h"

namespace tbprof::internal {

namespace {

// At most the first 64 bytes of `s`, with its size when it is longer.
std::string Cut(std::string_view s) {
  constexpr size_t kShown = 64;
  if (s.size() <= kShown) return std::string(s);
  return absl::StrCat(AsAbsl(s.substr(0, kShown)), "... (", s.size(), " bytes)");
}

// ENAMETOOLONG: which part of `path` is too long, and the limit it passes.
std::string NameTooLong(std::string_view op, std::string_view path) {
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view component = path.substr(start, slash - start);
    if (component.size() > NAME_MAX) {
      return absl::StrCat(AsAbsl(op), " ", Cut(path), ": the name \"", Cut(component), "\" is ",
                          component.size(), " bytes, over the file system's limit of ", NAME_MAX,
                          " bytes for one file or directory name");
    }
    start = slash + 1;
  }
  return absl::StrCat(AsAbsl(op), " ", Cut(path), ": the path is ", path.size(),
                      " bytes, over the system's limit of ", PATH_MAX, " bytes for a path");
}

}  // namespace

absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  if (err == ENAMETOOLONG) return absl::InvalidArgumentError(NameTooLong(op, path));
  std::string message = absl::StrCat(AsAbsl(op), " ", AsAbsl(path), ": ", std::strerror(err));
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case ENOTDIR:
    case EISDIR:
      return absl::FailedPreconditionError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status MakeDirs(std::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("empty directory path");
  std::string p(path);
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i != p.size() && p[i] != '/') continue;
    std::string prefix = p.substr(0, i);
    struct stat st;
    if (stat(prefix.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrCat("mkdir ", AsAbsl(path), ": ", prefix, " exists and is not a directory"));
      }
      continue;
    }
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", prefix);
    }
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Open(std::string_view path, bool must_not_exist) {
  Abort();
  status_ = absl::OkStatus();
  target_ = std::string(path);
  must_not_exist_ = must_not_exist;
  if (must_not_exist && access(target_.c_str(), F_OK) == 0) {
    return status_ = absl::AlreadyExistsError(absl::StrCat("refusing to overwrite ", AsAbsl(path)));
  }
  tmp_ = absl::StrCat(target_, ".tmp.", getpid());
  fd_ = open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    tmp_.clear();
    return status_ = ErrnoStatus(err, "open", absl::StrCat(target_, ".tmp.", getpid()));
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Append(std::string_view data) {
  if (!status_.ok()) return status_;
  if (fd_ < 0) return status_ = absl::FailedPreconditionError("AtomicFile: not open");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      status_ = ErrnoStatus(errno, "write", tmp_);
      Abort();
      return status_;
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit() {
  if (!status_.ok()) return status_;
  if (fd_ < 0) return status_ = absl::FailedPreconditionError("AtomicFile: not open");
  auto fail = [this](int err, std::string_view op, std::string_view path) {
    status_ = ErrnoStatus(err, op, path);
    Abort();
    return status_;
  };
  if (fsync(fd_) != 0 && errno != EINVAL) return fail(errno, "fsync", tmp_);
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return fail(errno, "close", tmp_);
  if (must_not_exist_) {
    // link() fails with EEXIST instead of replacing: no race with another writer.
    if (link(tmp_.c_str(), target_.c_str()) != 0) return fail(errno, "link", target_);
    unlink(tmp_.c_str());
  } else if (rename(tmp_.c_str(), target_.c_str()) != 0) {
    return fail(errno, "rename", target_);
  }
  tmp_.clear();
  return absl::OkStatus();
}

void AtomicFile::Abort() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) unlink(tmp_.c_str());
  tmp_.clear();
}

absl::Status WriteFileAtomically(std::string_view path, std::string_view contents,
                                 bool must_not_exist) {
  AtomicFile file;
  if (absl::Status s = file.Open(path, must_not_exist); !s.ok()) return s;
  if (absl::Status s = file.Append(contents); !s.ok()) return s;
  return file.Commit();
}

absl::Status ReadFile(std::string_view path, std::string* contents) {
  std::string p(path);
  int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  contents->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    contents->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return absl::OkStatus();
}

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  if (a.back() == '/') return absl::StrCat(AsAbsl(a), AsAbsl(b.front() == '/' ? b.substr(1) : b));
  return absl::StrCat(AsAbsl(a), b.front() == '/' ? "" : "/", AsAbsl(b));
}

}  // namespace tbprof::internal
