// Checkpoint store: rapidjson writes and reads the JSON; POSIX calls (open, write, fsync, rename) make the
// replacement atomic, and durable when asked. Stateless; any thread, one writer per path (see the header).
#include "agent/checkpoint/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "agent/core/durable_folder.h"
#include "agent/core/errno_text.h"
#include "agent/core/whole_file.h"

namespace ferry {
namespace {

constexpr std::size_t kMaxEscapedFlowBytes = 200;
constexpr std::size_t kCutEscapedFlowBytes = 183;  // + '~' + 16 hex digits = 200

Error IoError(const std::string& path, std::string_view what, int err) {
  return Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
               fmt::format("checkpoint file {}: {}: {}", path, what, ErrnoText(err)));
}

// ---- parsing ----

// Everything wrong with the content of a checkpoint file is kProtocol, so callers can quarantine it.
Error Corrupt(std::string_view origin, std::string_view what) {
  return Error(ErrorCode::kProtocol, fmt::format("checkpoint file {}: {}", origin, what));
}

// Reads one object's members, naming each by its full field path in errors ("files[3].offset").
// HasMember + operator[] rather than FindMember: clang rejects rapidjson's member iterator comparisons
// as ambiguous in C++20.
class FieldReader {
 public:
  FieldReader(std::string_view origin, const rapidjson::Value& object, std::string prefix)
      : origin_(origin), object_(object), prefix_(std::move(prefix)) {}

  std::string Name(const char* member) const { return prefix_.empty() ? member : prefix_ + "." + member; }

  Result<const rapidjson::Value*> Get(const char* member) const {
    if (!object_.HasMember(member)) return Corrupt(origin_, fmt::format("{}: missing", Name(member)));
    return &object_[member];
  }

  Result<std::uint64_t> Unsigned(const char* member) const {
    auto v = Get(member);
    if (!v.ok()) return v.error();
    if (!(*v)->IsUint64())
      return Corrupt(origin_, fmt::format("{}: expected an unsigned integer", Name(member)));
    return (*v)->GetUint64();
  }

  Result<std::int64_t> Signed(const char* member) const {
    auto v = Get(member);
    if (!v.ok()) return v.error();
    if (!(*v)->IsInt64()) return Corrupt(origin_, fmt::format("{}: expected an integer", Name(member)));
    return (*v)->GetInt64();
  }

  Result<std::string> String(const char* member) const {
    auto v = Get(member);
    if (!v.ok()) return v.error();
    if (!(*v)->IsString()) return Corrupt(origin_, fmt::format("{}: expected a string", Name(member)));
    return std::string((*v)->GetString(), (*v)->GetStringLength());
  }

  Result<const rapidjson::Value*> Object(const char* member) const {
    auto v = Get(member);
    if (!v.ok()) return v.error();
    if (!(*v)->IsObject()) return Corrupt(origin_, fmt::format("{}: expected an object", Name(member)));
    return *v;
  }

 private:
  std::string_view origin_;
  const rapidjson::Value& object_;
  std::string prefix_;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::uint64_t> ParseHash(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  std::uint64_t hash = 0;
  for (char c : text) {
    int d = HexDigit(c);
    if (d < 0) return std::nullopt;
    hash = (hash << 4) | static_cast<std::uint64_t>(d);
  }
  return hash;
}

Result<Fingerprint> ParseFingerprint(std::string_view origin, const rapidjson::Value& object,
                                     const std::string& name) {
  FieldReader r(origin, object, name);
  auto length = r.Unsigned("length");
  if (!length.ok()) return length.error();
  if (*length > kFingerprintBytes) {
    return Corrupt(origin,
                   fmt::format("{}: {} is more than {}", r.Name("length"), *length, kFingerprintBytes));
  }
  auto hash_text = r.String("hash");
  if (!hash_text.ok()) return hash_text.error();
  auto hash = ParseHash(*hash_text);
  if (!hash) return Corrupt(origin, fmt::format("{}: expected 16 hex digits", r.Name("hash")));
  return Fingerprint{static_cast<std::uint32_t>(*length), *hash};
}

Result<FileCheckpoint> ParseFile(std::string_view origin, const rapidjson::Value& entry,
                                 const std::string& name) {
  if (!entry.IsObject()) return Corrupt(origin, fmt::format("{}: expected an object", name));
  FieldReader r(origin, entry, name);
  FileCheckpoint file;
  auto dev = r.Unsigned("dev");
  if (!dev.ok()) return dev.error();
  file.dev = *dev;
  auto ino = r.Unsigned("ino");
  if (!ino.ok()) return ino.error();
  file.ino = *ino;
  auto fingerprint = r.Object("fingerprint");
  if (!fingerprint.ok()) return fingerprint.error();
  auto fp = ParseFingerprint(origin, **fingerprint, r.Name("fingerprint"));
  if (!fp.ok()) return fp.error();
  file.fingerprint = *fp;
  auto path = r.String("path");
  if (!path.ok()) return path.error();
  file.path = std::move(*path);
  auto offset = r.Unsigned("offset");
  if (!offset.ok()) return offset.error();
  file.offset = *offset;
  auto updated = r.Signed("updated");
  if (!updated.ok()) return updated.error();
  file.updated = *updated;
  return file;
}

// ---- files and folders ----

Status WriteAll(int fd, std::string_view data, const std::string& path, const std::string& tmp) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(path, fmt::format("writing {}", tmp), errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Writes `text` to `tmp` (and fsyncs it when durable); the caller removes `tmp` on failure.
Status WriteTmp(const std::string& path, const std::string& tmp, std::string_view text, bool durable) {
  // A .tmp left by a crash is removed first, so whatever it was (a symlink, a file of another owner) the
  // new one is a fresh regular file. If it cannot be removed, the open below says why (EEXIST, EROFS, ...).
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(path, fmt::format("creating {}", tmp), errno);
  auto written = WriteAll(fd, text, path, tmp);
  if (!written.ok()) {
    ::close(fd);
    return written;
  }
  if (durable && ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return IoError(path, fmt::format("fsync of {}", tmp), err);
  }
  if (::close(fd) != 0) return IoError(path, fmt::format("closing {}", tmp), errno);
  return Status::Ok();
}

}  // namespace

std::string EscapeFlowName(std::string_view flow) {
  if (flow.empty()) return "%";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(flow.size());
  std::size_t cut = 0;  // longest prefix of `out` within kCutEscapedFlowBytes that ends between escapes
  for (std::size_t i = 0; i < flow.size(); ++i) {
    auto c = static_cast<unsigned char>(flow[i]);
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '-' || (c == '.' && i > 0);
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
    if (out.size() <= kCutEscapedFlowBytes) cut = out.size();
  }
  if (out.size() <= kMaxEscapedFlowBytes) return out;
  out.resize(cut);
  return out + fmt::format("~{:016x}", Sha256Prefix64(flow));
}

std::string CheckpointPath(std::string_view state_dir, std::string_view flow) {
  std::string path(state_dir);
  if (!path.empty() && path.back() != '/') path.push_back('/');
  path += "checkpoints/";
  path += EscapeFlowName(flow);
  path += ".json";
  return path;
}

std::string RecentCheckpointPath(const std::string& path) {
  return path + ".recent";
}

std::string SerializeCheckpoints(const CheckpointSet& set) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  auto string = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("version");
  w.Int(kCheckpointVersion);
  w.Key("flow");
  string(set.flow);
  w.Key("sequence");
  w.Uint64(set.sequence);
  w.Key("files");
  w.StartArray();
  for (const auto& file : set.files) {
    w.StartObject();
    w.Key("dev");
    w.Uint64(file.dev);
    w.Key("ino");
    w.Uint64(file.ino);
    w.Key("fingerprint");
    w.StartObject();
    w.Key("length");
    w.Uint(file.fingerprint.length);
    w.Key("hash");
    string(fmt::format("{:016x}", file.fingerprint.hash));
    w.EndObject();
    w.Key("path");
    string(file.path);
    w.Key("offset");
    w.Uint64(file.offset);
    w.Key("updated");
    w.Int64(file.updated);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  out.push_back('\n');
  return out;
}

Result<CheckpointSet> ParseCheckpoints(std::string_view text, std::string_view origin) {
  if (text.empty()) return Corrupt(origin, "the file is empty");
  rapidjson::Document doc;
  // No encoding validation: paths are bytes and need not be UTF-8. Iterative parsing keeps the stack
  // flat however deeply a corrupt file nests.
  doc.Parse<rapidjson::kParseDefaultFlags | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return Corrupt(origin, fmt::format("not valid JSON at byte {}: {}", doc.GetErrorOffset(),
                                       rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return Corrupt(origin, "expected a JSON object at the top level");
  FieldReader r(origin, doc, "");
  // The version first: a file of another version may have any other shape.
  auto version = r.Unsigned("version");
  if (!version.ok()) return version.error();
  if (*version != kCheckpointVersion) {
    return Corrupt(origin, fmt::format("version {} is not supported (this ferry reads version {})", *version,
                                       kCheckpointVersion));
  }
  CheckpointSet set;
  auto flow = r.String("flow");
  if (!flow.ok()) return flow.error();
  set.flow = std::move(*flow);
  if (doc.HasMember("sequence")) {  // absent in files of earlier versions
    auto sequence = r.Unsigned("sequence");
    if (!sequence.ok()) return sequence.error();
    set.sequence = *sequence;
  }
  auto files = r.Get("files");
  if (!files.ok()) return files.error();
  if (!(*files)->IsArray()) return Corrupt(origin, "files: expected an array");
  set.files.reserve((*files)->Size());
  for (rapidjson::SizeType i = 0; i < (*files)->Size(); ++i) {
    auto file = ParseFile(origin, (**files)[i], fmt::format("files[{}]", i));
    if (!file.ok()) return file.error();
    set.files.push_back(std::move(*file));
  }
  return set;
}

Result<std::optional<CheckpointSet>> LoadCheckpoints(const std::string& path) {
  auto file = ReadWholeFile(path, kMaxCheckpointFileBytes, "checkpoint file");
  if (!file) {
    if (file.error().code() == ErrorCode::kNotFound) return std::optional<CheckpointSet>();  // first start
    return file.error();
  }
  if (file->too_large) return Corrupt(path, fmt::format("larger than {} bytes", kMaxCheckpointFileBytes));
  const std::string& text = file->bytes;
  auto set = ParseCheckpoints(text, path);
  if (!set.ok()) return set.error();
  return std::optional<CheckpointSet>(std::move(*set));
}

Result<LatestCheckpoints> LoadLatestCheckpoints(const std::string& path) {
  const std::string recent_path = RecentCheckpointPath(path);
  auto durable = LoadCheckpoints(path);
  auto recent = LoadCheckpoints(recent_path);
  LatestCheckpoints out;
  if (!recent.ok()) out.recent_problem = recent.error().message();
  const bool recent_valid = recent.ok() && recent->has_value();
  if (!durable.ok()) {
    if (!recent_valid) return durable.error();
    out.durable_error = durable.error();
    out.set = std::move(**recent);
    out.read_from = recent_path;
    return out;
  }
  if (!durable->has_value() && !recent.ok()) {
    return Error(recent.error().code(),
                 fmt::format("{}; and {} does not exist", recent.error().message(), path));
  }
  if (recent_valid && (!durable->has_value() || (*recent)->sequence > (*durable)->sequence)) {
    out.set = std::move(**recent);
    out.read_from = recent_path;
  } else if (durable->has_value()) {
    out.set = std::move(**durable);
    out.read_from = path;
  }
  return out;
}

Status WriteCheckpointFile(const std::string& file, std::string_view text, bool durable) {
  if (file.empty()) return Error(ErrorCode::kInvalidArgument, "checkpoint file: empty path");
  std::string dir = DirName(file);
  auto made = MakeFolders(dir, 0755, "checkpoint file " + file);
  if (!made.ok()) return made;
  std::string tmp = file + ".tmp";
  auto written = WriteTmp(file, tmp, text, durable);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError(file, fmt::format("renaming {} over it", tmp), err);
  }
  return durable ? SyncFolder(dir, "checkpoint file " + file) : Status::Ok();
}

Status SaveCheckpoints(const std::string& path, const CheckpointSet& set) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "checkpoint file: empty path");
  for (std::size_t i = 0; i < set.files.size(); ++i) {
    if (set.files[i].fingerprint.length > kFingerprintBytes) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("checkpoint file {}: files[{}].fingerprint.length: {} is more than {}", path,
                               i, set.files[i].fingerprint.length, kFingerprintBytes));
    }
  }
  return WriteCheckpointFile(path, SerializeCheckpoints(set), true);
}

Status QuarantineCheckpoints(const std::string& path, std::int64_t now, std::string* moved_to) {
  std::string base = fmt::format("{}.corrupt-{}", path, now);
  std::string target = base;
  struct stat st;
  for (int n = 1;; ++n) {
    if (::lstat(target.c_str(), &st) != 0) {
      if (errno == ENOENT) break;
      return IoError(path, fmt::format("stat of {}", target), errno);
    }
    if (n > 1000) return IoError(path, fmt::format("finding a free name like {}", base), EEXIST);
    target = fmt::format("{}-{}", base, n);
  }
  if (::rename(path.c_str(), target.c_str()) != 0) {
    return IoError(path, fmt::format("moving it aside to {}", target), errno);
  }
  if (moved_to != nullptr) *moved_to = target;
  return SyncFolder(DirName(path), "checkpoint file " + path);
}

}  // namespace ferry
