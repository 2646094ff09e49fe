// Tests of Fingerprint (agent/checkpoint/fingerprint): hashes are stable known values (computed apart with
// sha256sum), reads hash what the file holds, and MatchesPrefix tells a grown file from a changed one.
// Tests run on one thread.
#include "agent/checkpoint/fingerprint.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace ferry {
namespace {

// A file in a fresh temporary folder, removed with it at the end of the test.
class TempFile {
 public:
  TempFile() {
    std::string templ = (std::filesystem::temp_directory_path() / "ferry-fingerprint-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    dir_ = templ;
    path_ = dir_ + "/file.log";
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // Replaces the content; the descriptor stays open on the same inode.
  void Write(std::string_view data) {
    REQUIRE(::ftruncate(fd(), 0) == 0);
    REQUIRE(::pwrite(fd(), data.data(), data.size(), 0) == static_cast<ssize_t>(data.size()));
  }
  void Append(std::string_view data) {
    REQUIRE(::lseek(fd(), 0, SEEK_END) >= 0);
    REQUIRE(::write(fd(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  }
  void Truncate(off_t size) { REQUIRE(::ftruncate(fd(), size) == 0); }
  int fd() {
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd_ >= 0);
    return fd_;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

// printf 'ferry\n' | sha256sum -> 44aa71f1737e882b...
constexpr std::uint64_t kFerryHash = 0x44aa71f1737e882bull;
// printf '' | sha256sum -> e3b0c44298fc1c14...
constexpr std::uint64_t kEmptyHash = 0xe3b0c44298fc1c14ull;
// head -c 1024 /dev/zero | tr '\0' x | sha256sum -> 49abd65bbf7f7e40...
constexpr std::uint64_t kThousandXHash = 0x49abd65bbf7f7e40ull;

TEST_CASE("FingerprintOf gives the first 8 bytes of SHA-256, big-endian", "[fingerprint]") {
  CHECK(FingerprintOf("ferry\n") == Fingerprint{6, kFerryHash});
  CHECK(FingerprintOf("") == Fingerprint{0, kEmptyHash});
  CHECK(FingerprintOf(std::string(1024, 'x')) == Fingerprint{1024, kThousandXHash});
  CHECK(Sha256Prefix64("ferry\n") == kFerryHash);
}

TEST_CASE("FingerprintOf ignores bytes past kFingerprintBytes", "[fingerprint]") {
  CHECK(FingerprintOf(std::string(1024, 'x') + "more") == Fingerprint{1024, kThousandXHash});
}

TEST_CASE("ReadFingerprint hashes a short file as it is and reports its length", "[fingerprint]") {
  TempFile f;
  f.Write("ferry\n");
  auto fp = ReadFingerprint(f.fd(), kFingerprintBytes);
  REQUIRE(fp.ok());
  CHECK(*fp == Fingerprint{6, kFerryHash});

  f.Write("");
  fp = ReadFingerprint(f.fd(), kFingerprintBytes);
  REQUIRE(fp.ok());
  CHECK(*fp == Fingerprint{0, kEmptyHash});
}

TEST_CASE("ReadFingerprint reads at most the length asked for, and never more than 1024", "[fingerprint]") {
  TempFile f;
  f.Write(std::string(1024, 'x') + "tail of the file\n");
  auto fp = ReadFingerprint(f.fd(), 6000);
  REQUIRE(fp.ok());
  CHECK(*fp == Fingerprint{1024, kThousandXHash});

  f.Write("ferry\nand more lines\n");
  fp = ReadFingerprint(f.fd(), 6);
  REQUIRE(fp.ok());
  CHECK(*fp == Fingerprint{6, kFerryHash});
}

TEST_CASE("ReadFingerprint does not move the file offset", "[fingerprint]") {
  TempFile f;
  f.Write("ferry\nsecond line\n");
  REQUIRE(::lseek(f.fd(), 3, SEEK_SET) == 3);
  REQUIRE(ReadFingerprint(f.fd(), kFingerprintBytes).ok());
  CHECK(::lseek(f.fd(), 0, SEEK_CUR) == 3);
}

TEST_CASE("ReadFingerprint errors name errno", "[fingerprint]") {
  auto fp = ReadFingerprint(-1, 10);
  REQUIRE_FALSE(fp.ok());
  CHECK(fp.error().code() == ErrorCode::kIo);
  CHECK_THAT(fp.error().message(), Catch::Contains("pread") && Catch::Contains("EBADF"));
}

TEST_CASE("MatchesPrefix is true for a file that only grew", "[fingerprint]") {
  TempFile f;
  f.Write("ferry\n");
  auto recorded = ReadFingerprint(f.fd(), kFingerprintBytes);
  REQUIRE(recorded.ok());
  f.Append("another line\n");
  auto match = MatchesPrefix(f.fd(), *recorded);
  REQUIRE(match.ok());
  CHECK(*match);

  // A full-length fingerprint still matches after the file grew past 1024 bytes.
  f.Write(std::string(1000, 'a'));
  f.Append(std::string(100, 'b'));
  recorded = ReadFingerprint(f.fd(), kFingerprintBytes);
  REQUIRE(recorded.ok());
  CHECK(recorded->length == kFingerprintBytes);
  f.Append(std::string(5000, 'c'));
  match = MatchesPrefix(f.fd(), *recorded);
  REQUIRE(match.ok());
  CHECK(*match);
}

TEST_CASE("MatchesPrefix is false once the first bytes change", "[fingerprint]") {
  TempFile f;
  f.Write("ferry\nsecond\n");
  auto recorded = ReadFingerprint(f.fd(), kFingerprintBytes);
  REQUIRE(recorded.ok());
  REQUIRE(::pwrite(f.fd(), "F", 1, 0) == 1);
  auto match = MatchesPrefix(f.fd(), *recorded);
  REQUIRE(match.ok());
  CHECK_FALSE(*match);
}

TEST_CASE("MatchesPrefix is false when the file is shorter than the recorded length", "[fingerprint]") {
  TempFile f;
  f.Write("ferry\nsecond\n");
  auto recorded = ReadFingerprint(f.fd(), kFingerprintBytes);
  REQUIRE(recorded.ok());
  f.Truncate(6);
  auto match = MatchesPrefix(f.fd(), *recorded);
  REQUIRE(match.ok());
  CHECK_FALSE(*match);
  // Even when the shorter content hashes like something else recorded: length must be reached.
  match = MatchesPrefix(f.fd(), Fingerprint{7, kFerryHash});
  REQUIRE(match.ok());
  CHECK_FALSE(*match);
}

TEST_CASE("MatchesPrefix edge cases", "[fingerprint]") {
  TempFile f;
  f.Write("ferry\n");
  // A fingerprint taken of an empty file matches every file.
  auto match = MatchesPrefix(f.fd(), FingerprintOf(""));
  REQUIRE(match.ok());
  CHECK(*match);
  // A length no valid fingerprint can have never matches.
  match = MatchesPrefix(f.fd(), Fingerprint{kFingerprintBytes + 1, kFerryHash});
  REQUIRE(match.ok());
  CHECK_FALSE(*match);
  // Errors come through.
  match = MatchesPrefix(-1, FingerprintOf("ferry\n"));
  REQUIRE_FALSE(match.ok());
  CHECK_THAT(match.error().message(), Catch::Contains("EBADF"));
}

}  // namespace
}  // namespace ferry
